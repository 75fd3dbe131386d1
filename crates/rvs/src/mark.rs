//! `rvs mark`: the mark classifier's rules of a running rvsd (which new connections belong to a
//! firewall-mark service), listed and changed over the control socket.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use rvs_core::{
    control::{ErrorReply, MarkEdit, Request, Response},
    model::MarkRule,
};

#[derive(Debug, Subcommand)]
pub enum MarkCommand {
    /// Prints the rules in force, one per line, in the order they are tried.
    List,
    /// Appends a rule: `rvs mark add -p tcp -d 192.168.1.250 --dports 80,443 --set-mark 1`.
    Add {
        /// The rule's words.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true, trailing_var_arg = true)]
        rule: Vec<String>,
    },
    /// Deletes a rule, given as it was added (or as `list` prints it).
    Del {
        /// The rule's words.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true, trailing_var_arg = true)]
        rule: Vec<String>,
    },
    /// Deletes every rule.
    Flush,
}

fn parse(words: &[String]) -> Result<MarkRule> {
    words
        .join(" ")
        .parse()
        .map_err(|e| anyhow::anyhow!("bad rule: {e}"))
}

/// Runs one `rvs mark` command against the rvsd on `socket`.
pub fn run(command: MarkCommand, socket: Option<PathBuf>) -> Result<()> {
    let edit = match command {
        MarkCommand::List => MarkEdit::List,
        MarkCommand::Add { rule } => MarkEdit::Add {
            rule: parse(&rule)?,
        },
        MarkCommand::Del { rule } => MarkEdit::Delete {
            rule: parse(&rule)?,
        },
        MarkCommand::Flush => MarkEdit::Flush,
    };
    let list = matches!(edit, MarkEdit::List);
    match crate::tools::call(&crate::tools::socket_or_default(socket), &Request::Marks { edit })? {
        Response::Marks { rules } => {
            if list {
                for rule in rules {
                    println!("{rule}");
                }
            }
            Ok(())
        }
        Response::Error {
            error: ErrorReply::Refused(why),
        } => bail!("rvsd refused: {why}"),
        other => bail!("unexpected answer from rvsd: {other:?}"),
    }
}
