//! The mark classifier's rules as rvsd keeps them: edits from the control socket
//! ([`MarkEdit`]) applied whole or not at all, and their translation into the data plane's
//! rule table (one entry per port range).

use rvs_core::{control::MarkEdit, model::MarkRule};
use rvs_dataplane::{
    DataplaneError,
    abi::{RVS_MAX_MARK_RULES, RvsMarkRule},
};

/// Why an edit of the rules was refused.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error("the rule `{0}' is already there")]
    Exists(MarkRule),
    #[error("no rule `{0}'")]
    Missing(MarkRule),
    #[error("the rules need {entries} entries (one per port range), the data plane holds {max}")]
    TooMany { entries: usize, max: u32 },
    #[error("{0}")]
    Dataplane(DataplaneError),
}

/// The rule set an edit leads to, `None` when it only reads.
pub fn edited(rules: &[MarkRule], edit: &MarkEdit) -> Result<Option<Vec<MarkRule>>, MarkError> {
    let mut next = rules.to_vec();
    match edit {
        MarkEdit::List => return Ok(None),
        MarkEdit::Add { rule } => {
            if rules.contains(rule) {
                return Err(MarkError::Exists(rule.clone()));
            }
            next.push(rule.clone());
        }
        MarkEdit::Delete { rule } => {
            let at = rules
                .iter()
                .position(|r| r == rule)
                .ok_or_else(|| MarkError::Missing(rule.clone()))?;
            next.remove(at);
        }
        MarkEdit::Flush => next.clear(),
        MarkEdit::Replace { rules } => next = rules.clone(),
    }
    Ok(Some(next))
}

/// The data plane's rule table for `rules`, in order: a rule with several port ranges becomes
/// one entry per range, with the same mark, so the first match is still the first rule's.
pub fn compile(rules: &[MarkRule]) -> Result<Vec<RvsMarkRule>, MarkError> {
    let mut out = Vec::new();
    for rule in rules {
        // IANA numbers all fit a byte (6, 17, 132).
        let proto = rule.protocol.map_or(0, |p| p.number() as u8);
        let entry = |first: u16, last: u16| RvsMarkRule {
            addr: u32::from(rule.addr).to_be(),
            mask: u32::from(rule.netmask()).to_be(),
            port_lo: first,
            port_hi: last,
            proto,
            pad: [0; 3],
            mark: rule.mark.get(),
        };
        if rule.ports.is_empty() {
            out.push(entry(0, u16::MAX));
        }
        out.extend(rule.ports.iter().map(|r| entry(r.first, r.last)));
    }
    if out.len() > RVS_MAX_MARK_RULES as usize {
        return Err(MarkError::TooMany {
            entries: out.len(),
            max: RVS_MAX_MARK_RULES,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> MarkRule {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn edits_apply_whole_or_are_refused() {
        let a = rule("-p tcp -d 10.0.0.1 --dports 80,443 --set-mark 1");
        let b = rule("-d 10.0.0.0/24 --set-mark 2");
        let one = edited(&[], &MarkEdit::Add { rule: a.clone() })
            .expect("add")
            .expect("changed");
        assert_eq!(one, vec![a.clone()]);
        assert!(matches!(
            edited(&one, &MarkEdit::Add { rule: a.clone() }),
            Err(MarkError::Exists(_))
        ));
        let two = edited(&one, &MarkEdit::Add { rule: b.clone() })
            .expect("add")
            .expect("changed");
        assert_eq!(two, vec![a.clone(), b.clone()], "appended in order");
        assert_eq!(
            edited(&two, &MarkEdit::Delete { rule: a.clone() }).expect("del"),
            Some(vec![b.clone()])
        );
        let err = edited(std::slice::from_ref(&b), &MarkEdit::Delete { rule: a.clone() }).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "no rule `-p tcp -d 10.0.0.1/32 --dports 80,443 --set-mark 1'"
        );
        assert_eq!(edited(&two, &MarkEdit::Flush).expect("flush"), Some(vec![]));
        assert_eq!(edited(&two, &MarkEdit::List).expect("list"), None);
    }

    #[test]
    fn a_rule_becomes_one_entry_per_port_range_in_order() {
        let t = compile(&[
            rule("-p tcp -d 192.168.1.250 --dports 80,443 --set-mark 1"),
            rule("-p udp -d 10.0.0.0/8 --set-mark 2"),
        ])
        .expect("compile");
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].port_lo, t[0].port_hi, t[0].proto, t[0].mark),
            (80, 80, 6, 1)
        );
        assert_eq!((t[1].port_lo, t[1].port_hi, t[1].mark), (443, 443, 1));
        assert_eq!(
            (t[2].port_lo, t[2].port_hi, t[2].proto, t[2].mark),
            (0, 65535, 17, 2)
        );
        assert_eq!(t[0].addr, u32::from_be_bytes([192, 168, 1, 250]).to_be());
        assert_eq!(t[2].mask, u32::from_be_bytes([255, 0, 0, 0]).to_be());
    }

    #[test]
    fn more_entries_than_the_data_plane_holds_are_refused() {
        let rules: Vec<MarkRule> = (1..=20)
            .map(|m| {
                rule(&format!(
                    "-d 10.0.{m}.0/24 --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 --set-mark {m}"
                ))
            })
            .collect();
        let err = compile(&rules).expect_err("300 entries");
        assert_eq!(
            err.to_string(),
            "the rules need 300 entries (one per port range), the data plane holds 256"
        );
    }
}
