//! `--persist`: what makes the preparation survive a reboot, as the seeds do by hand with
//! `/etc/sysctl.conf` and an init script. A sysctl.d file sets the ARP settings early in boot,
//! before any VIP exists; a oneshot systemd unit re-runs `rvs realserver up` once the network is
//! online (and `down` when stopped). Both carry a marker line: `down --persist` only removes
//! files that have it, and `up --persist` never overwrites a file without it.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};

use super::{
    place::Places,
    spec::{Forwarding, Spec},
    sysctl::Key,
};

/// The sysctl.d file's name.
pub const SYSCTL_FILE: &str = "90-rvs-realserver.conf";
/// The unit's name.
pub const UNIT: &str = "rvs-realserver.service";
/// The first line of both files.
const MARKER: &str =
    "# Written by `rvs realserver up --persist`; `rvs realserver down --persist` removes it.";
/// Where `systemctl enable` links the unit (its `WantedBy=`).
const WANTS_DIR: &str = "multi-user.target.wants";

/// The sysctl.d file for these values.
pub fn sysctl_conf(settings: &[(Key, u32)]) -> String {
    let mut text = format!(
        "{MARKER}\n# ARP settings before any VIP exists (arp_ignore/arp_announce), `all` first.\n"
    );
    for (key, value) in settings {
        text.push_str(&format!("{} = {value}\n", key.sysctl_name()));
    }
    text
}

/// The systemd unit that runs `exe realserver up <spec>` at boot.
pub fn unit(spec: &Spec, exe: &Path) -> String {
    let exe = systemd_quote(&exe.to_string_lossy());
    let args = spec
        .to_args()
        .iter()
        .map(|a| systemd_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let vips = spec
        .vips
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mode = match spec.forwarding {
        Forwarding::Dr => "DR".to_owned(),
        Forwarding::Tun { tunnel, .. } => format!("TUN {}", tunnel.name()),
    };
    format!(
        "{MARKER}\n\
         [Unit]\n\
         Description=LVS real server ({mode}) for {vips} on {iface}, prepared by rvs\n\
         Wants=network-online.target\n\
         After=network-online.target systemd-sysctl.service\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart={exe} realserver up {args}\n\
         ExecStop={exe} realserver down {args}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
        iface = spec.interface,
    )
}

/// A word as systemd's command lines take it: quoted when it holds spaces, quotes,
/// backslashes or `%` (which systemd would expand).
fn systemd_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@".contains(c));
    if plain {
        return word.to_owned();
    }
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

/// The two files' paths.
pub fn paths(places: &Places) -> (PathBuf, PathBuf) {
    (
        places.sysctl_dir.join(SYSCTL_FILE),
        places.systemd_dir.join(UNIT),
    )
}

/// Writes both files; returns each path with its content.
pub fn write(
    places: &Places,
    settings: &[(Key, u32)],
    spec: &Spec,
    exe: &Path,
) -> Result<Vec<(PathBuf, String)>> {
    let (conf, unit_path) = paths(places);
    let files = vec![(conf, sysctl_conf(settings)), (unit_path, unit(spec, exe))];
    for (path, _) in &files {
        if let Some(existing) = read_optional(path)?
            && !existing.starts_with(MARKER)
        {
            bail!(
                "{} exists and was not written by rvs: not overwriting it",
                path.display()
            );
        }
    }
    for (path, text) in &files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files)
}

/// Removes both files (only if rvs wrote them) and the unit's `enable` link; returns what
/// was removed.
pub fn remove(places: &Places) -> Result<Vec<PathBuf>> {
    let (conf, unit_path) = paths(places);
    let mut ours = Vec::new();
    for path in [conf, unit_path.clone()] {
        match read_optional(&path)? {
            None => {}
            Some(text) if !text.starts_with(MARKER) => {
                bail!(
                    "{} was not written by rvs: leaving it alone",
                    path.display()
                );
            }
            Some(_) => ours.push(path),
        }
    }
    let mut removed = Vec::new();
    let link = places.systemd_dir.join(WANTS_DIR).join(UNIT);
    if ours.contains(&unit_path)
        && std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink())
    {
        std::fs::remove_file(&link).with_context(|| format!("removing {}", link.display()))?;
        removed.push(link);
    }
    for path in ours {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        removed.push(path);
    }
    Ok(removed)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realserver::{
        place::Netns,
        spec::{ModeArg, Vip},
        sysctl::{Scope, Setting},
    };

    fn places(dir: &Path) -> Places {
        Places {
            netns: Netns::Host,
            netns_inode: 1,
            state_dir: dir.join("run"),
            sysctl_dir: dir.join("sysctl.d"),
            systemd_dir: dir.join("system"),
            pin_root: dir.join("bpf"),
        }
    }

    fn spec() -> Spec {
        let vip: Vip = "192.168.0.100".parse().unwrap();
        Spec::new(
            &[vip],
            ModeArg::Dr,
            None,
            None,
            None,
            "eth0".parse().unwrap(),
        )
        .unwrap()
    }

    fn settings() -> Vec<(Key, u32)> {
        vec![
            (Key::new(Scope::All, Setting::ArpIgnore), 1),
            (Key::new(Scope::All, Setting::ArpAnnounce), 2),
            (
                Key::new(Scope::If("eth0.7".parse().unwrap()), Setting::ArpIgnore),
                1,
            ),
        ]
    }

    #[test]
    fn the_sysctl_file_lists_the_settings_in_order() {
        let text = sysctl_conf(&settings());
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "net.ipv4.conf.all.arp_ignore = 1",
                "net.ipv4.conf.all.arp_announce = 2",
                "net/ipv4/conf/eth0.7/arp_ignore = 1"
            ]
        );
    }

    #[test]
    fn the_unit_reruns_up_and_stops_with_down() {
        let text = unit(&spec(), Path::new("/usr/local/bin/rvs"));
        assert!(text.contains("ExecStart=/usr/local/bin/rvs realserver up --vip 192.168.0.100 --mode dr --interface eth0\n"), "{text}");
        assert!(text.contains("ExecStop=/usr/local/bin/rvs realserver down --vip 192.168.0.100 --mode dr --interface eth0\n"), "{text}");
        assert!(
            text.contains("Type=oneshot\nRemainAfterExit=yes\n"),
            "{text}"
        );
        assert!(text.contains("WantedBy=multi-user.target"), "{text}");
        let odd = unit(&spec(), Path::new("/opt/my tools/rvs"));
        assert!(
            odd.contains("ExecStart=\"/opt/my tools/rvs\" realserver up"),
            "{odd}"
        );
        assert_eq!(systemd_quote("100%"), "\"100%%\"");
    }

    #[test]
    fn files_are_written_removed_and_foreign_ones_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = places(dir.path());
        let written = write(&p, &settings(), &spec(), Path::new("/usr/bin/rvs")).unwrap();
        assert_eq!(written.len(), 2);
        for (path, text) in &written {
            assert_eq!(&std::fs::read_to_string(path).unwrap(), text);
        }
        // `systemctl enable` would make this link; `down --persist` removes it with the unit.
        let wants = p.systemd_dir.join(WANTS_DIR);
        std::fs::create_dir_all(&wants).unwrap();
        std::os::unix::fs::symlink(p.systemd_dir.join(UNIT), wants.join(UNIT)).unwrap();
        // Writing again (a second `up --persist`) is fine.
        write(&p, &settings(), &spec(), Path::new("/usr/bin/rvs")).unwrap();
        let removed = remove(&p).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        assert!(std::fs::read_dir(&p.sysctl_dir).unwrap().next().is_none());
        assert!(remove(&p).unwrap().is_empty());
        // Someone else's file of the same name.
        std::fs::write(p.sysctl_dir.join(SYSCTL_FILE), "net.ipv4.ip_forward = 1\n").unwrap();
        let err = write(&p, &settings(), &spec(), Path::new("/usr/bin/rvs"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not written by rvs"), "{err}");
        let err = remove(&p).unwrap_err().to_string();
        assert!(err.contains("leaving it alone"), "{err}");
        assert!(p.sysctl_dir.join(SYSCTL_FILE).exists());
    }
}
