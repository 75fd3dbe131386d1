//! The top level of keepalived.conf, `global_defs` (`core/global_parser.c`) and `track_file`
//! (`trackers/track_file.c`).

use std::path::PathBuf;

use super::tree::Node;
use rvs_core::config::SyncDaemonSpec;

use super::{Ctx, Draft, Pos, group, lvs, value, vrrp, vrrp_finish};

/// Top-level keywords.
const ROOT: &[&str] = &[
    "global_defs",
    "virtual_server",
    "virtual_server_group",
    "vrrp_instance",
    "vrrp_script",
    "vrrp_sync_group",
    "track_file",
    "vrrp_track_file",
    "SSL",
];

/// Top-level blocks keepalived knows that configure what rvs does not do.
const ROOT_UNSUPPORTED: &[&str] = &[
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "track_group",
    "garp_group",
    "linkbeat_interfaces",
    "vrrp_track_process",
    "interface_up_down_delays",
    "bfd_instance",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "child_wait_time",
    "linkbeat_use_polling",
];

/// One top-level statement.
pub(super) fn root(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    match node.keyword() {
        "global_defs" => global_defs(node, draft, ctx),
        "track_file" | "vrrp_track_file" => track_file(node, draft, ctx),
        "virtual_server_group" => group::parse(node, draft, ctx),
        "virtual_server" => lvs::virtual_server(node, draft, ctx),
        "vrrp_instance" => vrrp::instance(node, draft, ctx),
        "vrrp_script" => vrrp_finish::script(node, draft, ctx),
        "vrrp_sync_group" => ctx.ignored(node, "is not supported by rvs: its instances run on their own"),
        "SSL" => ctx.ignored(node, "is not used by rvs: SSL_GET checks present no client certificate"),
        kw if ROOT_UNSUPPORTED.contains(&kw) => ctx.ignored(node, "is not supported by rvs: ignored"),
        _ => ctx.unknown(node, ROOT, "the top level"),
    }
}

/// `global_defs` keywords that tune keepalived's processes, logs, SNMP or mail addresses:
/// nothing for rvs to do, nothing to warn about.
const GLOBAL_QUIET: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_helo_name",
    "smtp_connect_timeout",
    "enable_script_security",
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "lvs_process_name",
    "bfd_process_name",
    "use_symlink_paths",
    "set_supplementary_groups",
    "max_auto_priority",
    "min_auto_priority_delay",
    "vrrp_priority",
    "vrrp_no_swap",
    "vrrp_rt_priority",
    "vrrp_cpu_affinity",
    "vrrp_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "checker_priority",
    "checker_no_swap",
    "checker_rt_priority",
    "checker_cpu_affinity",
    "checker_rlimit_rttime",
    "checker_rlimit_rtime",
    "bfd_priority",
    "bfd_no_swap",
    "bfd_rt_priority",
    "bfd_cpu_affinity",
    "bfd_rlimit_rttime",
    "bfd_rlimit_rtime",
    "snmp_socket",
    "enable_traps",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_checker",
    "snmp_vs_stats_update_interval",
    "snmp_rs_stats_update_interval",
    "enable_dbus",
    "dbus_service_name",
    "dbus_no_interface_name",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "umask",
    "random_seed",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "include_check",
    "config_save_dir",
    "tmp_config_directory",
    "data_use_instance",
    "json_version",
    "iproute_usr_dir",
    "iproute_etc_dir",
    "state_dump_file",
    "stats_dump_file",
    "json_dump_file",
    "log_unknown_vrids",
    "no_email_faults",
    "no_checker_emails",
    "checker_log_all_failures",
    "fifo_write_vrrp_states_on_reload",
    "nftables_counters",
    "linkbeat_use_polling",
];

/// `global_defs` keywords for behaviour rvs does not reproduce: accepted with a warning.
const GLOBAL_UNSUPPORTED: &[&str] = &[
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "default_interface",
    "disable_local_igmp",
    "dynamic_interfaces",
    "v3_checksum_as_v2",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_flush_onstop",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_down_timer_adverts",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_iptables",
    "vrrp_ipsets",
    "nftables",
    "nftables_priority",
    "nftables_ifindex",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_strict",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "rs_init_notifies",
    "vrrp_startup_delay",
    "vrrp_delay_after_boot",
    "vrrp_owner_ignore_adverts",
    "vmac_prefix",
    "vmac_addr_prefix",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
];

/// `global_defs` keywords rvs reads.
const GLOBAL_USED: &[&str] = &[
    "router_id",
    "lvs_timeouts",
    "lvs_sync_daemon",
    "vrrp_version",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "script_user",
];

/// keepalived's `LVS_MAX_TIMEOUT`: 31 days.
const LVS_MAX_TIMEOUT: u64 = 86400 * 31;

fn global_defs(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    ctx.need_block(node);
    for n in node.children() {
        let kw = n.keyword();
        match kw {
            "router_id" => {
                if let Some(id) = ctx.value(n, 1) {
                    draft.router_id = Some(id.to_owned());
                }
                ctx.extra(n, 2);
            }
            "lvs_timeouts" => lvs_timeouts(n, draft, ctx),
            "lvs_sync_daemon" => draft.sync_daemon = sync_daemon(n, ctx),
            "vrrp_version" => draft.vrrp_defaults.version = ctx.number(n, 1, 2, 3).map(|v| v == 3),
            "vrrp_garp_master_delay" => draft.vrrp_defaults.garp_delay = vrrp::garp_delay(n, ctx),
            "vrrp_garp_master_repeat" => draft.vrrp_defaults.garp_repeat = vrrp::garp_repeat(n, ctx),
            "vrrp_garp_master_refresh" => draft.vrrp_defaults.garp_refresh = vrrp::garp_refresh(n, ctx),
            "smtp_alert" | "smtp_alert_vrrp" | "smtp_alert_checker" => {
                ctx.ignored(n, "is not supported: rvs sends no email (ignored)");
            }
            "script_user" => ctx.ignored(n, "is not supported: rvs runs scripts as its own user (ignored)"),
            kw if GLOBAL_QUIET.contains(&kw) => {}
            kw if GLOBAL_UNSUPPORTED.contains(&kw) => ctx.ignored(n, "is not supported by rvs (ignored)"),
            _ => {
                let known: Vec<&str> = GLOBAL_USED.iter().chain(GLOBAL_QUIET).chain(GLOBAL_UNSUPPORTED).copied().collect();
                ctx.unknown(n, &known, "`global_defs`");
            }
        }
    }
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]` (0: unchanged, as `ipvsadm --set`).
fn lvs_timeouts(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let mut t = draft.timeouts.unwrap_or_default();
    if node.words.len() < 3 {
        ctx.error(node.pos(), "`lvs_timeouts` needs at least one of `tcp N`, `tcpfin N`, `udp N`", None);
        return;
    }
    let mut i = 1;
    while let Some(w) = node.word(i) {
        let field = match w.text.as_str() {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcp_fin,
            "udp" => &mut t.udp,
            other => {
                let hint = Some("the options are `tcp`, `tcpfin` and `udp`".to_owned());
                ctx.error(w.pos, format!("unknown `lvs_timeouts` option `{other}`"), hint);
                return;
            }
        };
        match ctx.number(node, i + 1, 0, LVS_MAX_TIMEOUT) {
            Some(v) => *field = u32::try_from(v).unwrap_or(u32::MAX),
            None => return,
        }
        i += 2;
    }
    draft.timeouts = Some(t);
}

/// A `track_file NAME { file PATH; weight W [reverse] }` declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TrackFile {
    pub name: String,
    pub path: PathBuf,
    /// Default multiplier of the `FILE_CHECK`s using it (keepalived: 1).
    pub weight: i32,
    pub reverse: bool,
    pub pos: Pos,
}

fn track_file(node: &Node, draft: &mut Draft, ctx: &mut Ctx) {
    let Some(name) = ctx.value(node, 1) else { return };
    ctx.extra(node, 2);
    if !ctx.need_block(node) {
        return;
    }
    let mut tf = TrackFile { name: name.to_owned(), path: PathBuf::new(), weight: 1, reverse: false, pos: node.pos() };
    let mut have_path = false;
    for n in node.children() {
        match n.keyword() {
            "file" => {
                if let Some(p) = ctx.value(n, 1) {
                    tf.path = PathBuf::from(p);
                    have_path = true;
                }
            }
            "weight" => {
                if let Some(w) = ctx.int(n, 1, -254, 254) {
                    tf.weight = i32::try_from(w).unwrap_or(1);
                }
                match n.text(2) {
                    None => {}
                    Some("reverse") => tf.reverse = true,
                    Some("noreverse") => tf.reverse = false,
                    Some(o) => ctx.error(n.words[2].pos, format!("unknown `weight` option `{o}`"), Some("`reverse`".into())),
                }
            }
            "init_file" => ctx.ignored(n, "is not supported: rvs does not create the tracked file (ignored)"),
            _ => ctx.unknown(n, &["file", "weight", "init_file"], "`track_file`"),
        }
    }
    if !have_path {
        ctx.error(node.pos(), format!("track_file `{name}` has no `file`"), None);
        return;
    }
    if draft.track_files.iter().any(|t| t.name == tf.name) {
        ctx.error(node.pos(), format!("track_file `{name}` is defined twice"), None);
        return;
    }
    draft.track_files.push(tf);
}

/// `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id N] [maxlen L] [port P] [ttl T] [group G]`
/// (keepalived's `lvs_sync_daemon` handler in global_parser.c).
fn sync_daemon(n: &Node, ctx: &mut Ctx) -> Option<SyncDaemonSpec> {
    let Some(interface) = n.text(1) else {
        let hint = Some("lvs_sync_daemon eth1 VI_1".to_owned());
        ctx.error(n.pos(), "`lvs_sync_daemon` needs an interface", hint);
        return None;
    };
    if interface.len() > 15 {
        ctx.error(n.words[1].pos, format!("interface name `{interface}` is longer than 15 characters"), None);
        return None;
    }
    let mut spec = SyncDaemonSpec::new(interface.to_owned());
    let mut i = 2;
    if let Some(word) = n.text(2).filter(|w| !["id", "maxlen", "port", "ttl", "group"].contains(w)) {
        spec.instance = Some(word.to_owned());
        i = 3;
    }
    while let Some(option) = n.text(i) {
        let ok = match option {
            "id" => ctx.number(n, i + 1, 0, 255).map(|v| spec.syncid = u8::try_from(v).unwrap_or(0)),
            "maxlen" => ctx.number(n, i + 1, 1, 65_507).map(|v| spec.maxlen = u16::try_from(v).ok()),
            "port" => ctx.number(n, i + 1, 1, 65_535).map(|v| spec.port = u16::try_from(v).ok()),
            "ttl" => ctx.number(n, i + 1, 1, 255).map(|v| spec.ttl = u8::try_from(v).ok()),
            "group" => match n.text(i + 1).and_then(value::ip) {
                Some(group) if group.is_multicast() => {
                    spec.group = Some(group);
                    Some(())
                }
                _ => {
                    let hint = Some("a multicast group such as 224.0.0.81".to_owned());
                    ctx.error(n.pos(), "`lvs_sync_daemon`: `group` needs a multicast address", hint);
                    None
                }
            },
            other => {
                let hint = Some("options: id, maxlen, port, ttl, group".to_owned());
                ctx.error(n.pos(), format!("`lvs_sync_daemon`: unknown option `{other}`"), hint);
                None
            }
        };
        ok?;
        i += 2;
    }
    Some(spec)
}
