//! Statements and braces into a tree: a statement followed by `{` (on its line or the next)
//! owns the block up to the matching `}`.

use super::lexer::{Item, Stmt, Word};
use super::{Ctx, Pos};

/// A statement and its block, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub words: Vec<Word>,
    /// The statement as written (see [`Stmt::raw`]).
    pub raw: String,
    pub block: Option<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    /// Where its `{` is.
    pub open: Pos,
    pub nodes: Vec<Node>,
}

impl Node {
    pub fn keyword(&self) -> &str {
        &self.words[0].text
    }

    pub fn pos(&self) -> Pos {
        self.words[0].pos
    }

    /// The word at `i` (0 is the keyword).
    pub fn word(&self, i: usize) -> Option<&Word> {
        self.words.get(i)
    }

    /// The text of the word at `i`.
    pub fn text(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(|w| w.text.as_str())
    }

    /// The statements of its block (none without one).
    pub fn children(&self) -> &[Node] {
        self.block.as_ref().map_or(&[], |b| &b.nodes)
    }

    /// The statement after the keyword, as written.
    pub fn rest(&self) -> &str {
        let kw = self.keyword();
        self.raw.strip_prefix(kw).map_or(self.raw.as_str(), str::trim_start)
    }
}

struct Frame {
    open: Pos,
    nodes: Vec<Node>,
    /// The statement of the parent frame that owns this block; `None` for a `{` that follows
    /// no statement (reported, its content dropped).
    owner: Option<usize>,
}

/// The top-level statements of `items`. Unbalanced braces are errors.
pub(super) fn build(items: Vec<Item>, ctx: &mut Ctx) -> Vec<Node> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut top: Vec<Node> = Vec::new();
    let mut after_stmt = false;
    // The last block whose `}` is not in the column of its keyword: when a `}` is missing,
    // the likely place.
    let mut misaligned: Option<u32> = None;
    for item in items {
        let nodes = stack.last_mut().map_or(&mut top, |f| &mut f.nodes);
        match item {
            Item::Stmt(Stmt { words, raw }) => {
                nodes.push(Node { words, raw, block: None });
                after_stmt = true;
            }
            Item::Open(pos) => {
                let owner = if after_stmt { Some(nodes.len() - 1) } else { None };
                if owner.is_none() {
                    ctx.error(pos, "unexpected `{`: no keyword before it", Some("a block follows the keyword it belongs to".into()));
                }
                stack.push(Frame { open: pos, nodes: Vec::new(), owner });
                after_stmt = false;
            }
            Item::Close(pos) => {
                after_stmt = false;
                let Some(frame) = stack.pop() else {
                    ctx.error(pos, "unexpected `}`: no block is open here", Some("remove it, or look for a missing `{` above".into()));
                    continue;
                };
                let parent = stack.last_mut().map_or(&mut top, |f| &mut f.nodes);
                if let Some(i) = frame.owner {
                    let start = parent[i].pos();
                    if start.file == pos.file && start.line != pos.line && start.col != pos.col {
                        misaligned = Some(start.line);
                    }
                    parent[i].block = Some(Block { open: frame.open, nodes: frame.nodes });
                }
            }
        }
    }
    for frame in &stack {
        let hint = match misaligned {
            Some(line) if line != frame.open.line => {
                format!("add the `}}` that ends it (perhaps the block of line {line}'s: its `}}` is out of line with it)")
            }
            _ => "add the `}` that ends it".to_owned(),
        };
        ctx.error(frame.open, "missing `}`: this block is never closed", Some(hint));
    }
    // Keep what was read of unclosed blocks, so that their content is still checked.
    while let Some(frame) = stack.pop() {
        let parent = stack.last_mut().map_or(&mut top, |f| &mut f.nodes);
        if let Some(i) = frame.owner {
            parent[i].block = Some(Block { open: frame.open, nodes: frame.nodes });
        }
    }
    top
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;
    use std::path::Path;

    fn tree(text: &str) -> (Vec<Node>, Ctx) {
        let mut ctx = Ctx::default();
        let items = lex(text, Path::new("t.conf"), &mut ctx);
        (build(items, &mut ctx), ctx)
    }

    #[test]
    fn blocks_nest_and_may_open_on_the_next_line() {
        let (nodes, ctx) = tree("a 1\n{\n  b { c 2 }\n  d\n}\ne\n");
        assert!(ctx.diagnostics().is_empty());
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].keyword(), "a");
        let inner = nodes[0].children();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[0].children()[0].text(1), Some("2"));
        assert_eq!(inner[1].keyword(), "d");
        assert!(nodes[1].block.is_none());
        assert_eq!(inner[0].children()[0].rest(), "2");
    }

    #[test]
    fn unbalanced_braces_are_reported_where_they_are() {
        let (_, ctx) = tree("a {\n  b {\n}\n");
        let d = &ctx.diagnostics()[0];
        assert_eq!((d.line, d.column, d.message.as_str()), (1, 3, "missing `}`: this block is never closed"));
        let (_, ctx) = tree("a { }\n}\n");
        let d = &ctx.diagnostics()[0];
        assert_eq!((d.line, d.column, d.message.as_str()), (2, 1, "unexpected `}`: no block is open here"));
        let (_, ctx) = tree("a { } {\n}\n");
        assert_eq!(ctx.diagnostics()[0].message, "unexpected `{`: no keyword before it");
    }
}
