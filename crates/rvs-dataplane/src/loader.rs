//! Loading the director object, attaching it to interfaces, and taking it all down again.

use std::path::{Path, PathBuf};

use aya::{
    EbpfLoader,
    programs::{ProgramError, Xdp, XdpMode, xdp::XdpLinkId},
};

use crate::{
    abi::{RVS_ABI_VERSION, RvsConfig},
    attach::{AttachMode, auto_prefers_native, driver_name},
    bpffs,
    config::{ConnSettings, build_config},
    error::DataplaneError,
    maps::Maps,
    mmap::MmapArray,
    object::{DIRECTOR, PROG_DIRECTOR, PROG_EXPIRE, PROG_SYNC_INSTALL},
};

/// Where and how big to make an instance's data plane.
#[derive(Clone, Debug)]
pub struct DataplaneOptions {
    /// Root of the BPF filesystem (normally `/sys/fs/bpf`).
    pub bpffs: PathBuf,
    /// Instance name; pins live in `<bpffs>/rvs/<instance>/`.
    pub instance: String,
    /// Capacity of the connection table (only when the maps are created, not when reused).
    pub conn_max: u32,
}

/// One interface the director program runs on.
#[derive(Debug)]
pub struct Attachment {
    /// Interface name.
    pub interface: String,
    /// Mode actually used.
    pub mode: AttachMode,
    link: XdpLinkId,
}

/// A loaded director: programs, maps and attachments of one rvsd instance.
pub struct Dataplane {
    ebpf: aya::Ebpf,
    /// The director's maps.
    pub maps: Maps,
    pin_dir: PathBuf,
    reused: bool,
    attachments: Vec<Attachment>,
    /// Held while a batch is in `sync_in` (see `crate::sync`).
    pub(crate) sync_lock: std::sync::Mutex<()>,
}

impl Dataplane {
    /// Loads (or, when this instance's maps are pinned already, reattaches to) the data plane.
    pub fn load(opts: &DataplaneOptions) -> Result<Self, DataplaneError> {
        bpffs::ensure_bpffs(&opts.bpffs)?;
        let pin_dir = bpffs::instance_dir(&opts.bpffs, &opts.instance);
        let reused = pin_dir.join("config").exists();
        if reused {
            check_pinned_abi(&pin_dir)?;
        }
        std::fs::create_dir_all(&pin_dir)
            .map_err(|source| DataplaneError::PinDir { path: pin_dir.clone(), source })?;
        match Self::load_in(opts, &pin_dir) {
            Ok((ebpf, maps)) => {
                if !reused {
                    init_config(&maps.config);
                }
                Ok(Self { ebpf, maps, pin_dir, reused, attachments: Vec::new(), sync_lock: Default::default() })
            }
            Err(e) => {
                // Maps this attempt pinned would otherwise outlive it (a verifier rejection
                // comes after the maps were created).
                if !reused {
                    let _ = bpffs::remove_instance_dir(&pin_dir);
                }
                Err(e)
            }
        }
    }

    fn load_in(opts: &DataplaneOptions, pin_dir: &Path) -> Result<(aya::Ebpf, Maps), DataplaneError> {
        let mut ebpf = EbpfLoader::new()
            .default_map_pin_directory(pin_dir)
            .map_max_entries("conns", opts.conn_max)
            .map_max_entries("nat_rev", opts.conn_max)
            .load(DIRECTOR)?;
        for name in [PROG_DIRECTOR, PROG_EXPIRE, PROG_SYNC_INSTALL] {
            xdp_mut(&mut ebpf, name)?.load().map_err(|source| DataplaneError::Program { program: name, source })?;
        }
        let maps = Maps::take_from(&mut ebpf)?;
        Ok((ebpf, maps))
    }

    /// Whether the maps were found pinned (a restart) rather than created.
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// The instance's pin directory.
    pub fn pin_dir(&self) -> &Path {
        &self.pin_dir
    }

    /// Attaches the director program to `interface`.
    pub fn attach(&mut self, interface: &str, mode: AttachMode) -> Result<&Attachment, DataplaneError> {
        let tries: &[AttachMode] = match mode {
            AttachMode::Auto if auto_prefers_native(driver_name(interface).as_deref()) => {
                &[AttachMode::Native, AttachMode::Generic]
            }
            AttachMode::Auto => &[AttachMode::Generic],
            AttachMode::Native => &[AttachMode::Native],
            AttachMode::Generic => &[AttachMode::Generic],
        };
        let prog = xdp_mut(&mut self.ebpf, PROG_DIRECTOR)?;
        let mut last = None;
        for &m in tries {
            let xdp_mode = if m == AttachMode::Native { XdpMode::Driver } else { XdpMode::Skb };
            match prog.attach(interface, xdp_mode) {
                Ok(link) => {
                    tracing::info!(interface, mode = %m, "attached the director program");
                    self.attachments.push(Attachment { interface: interface.to_string(), mode: m, link });
                    return Ok(self.attachments.last().expect("just pushed"));
                }
                Err(ProgramError::UnknownInterface { name }) => {
                    return Err(DataplaneError::NoSuchInterface(name));
                }
                Err(source) => {
                    tracing::debug!(interface, mode = %m, error = %source, "attach failed");
                    last = Some(DataplaneError::Attach { interface: interface.to_string(), mode: m.name(), source });
                }
            }
        }
        Err(last.unwrap_or_else(|| DataplaneError::NoSuchInterface(interface.to_string())))
    }

    /// The interfaces the program is attached to.
    pub fn attachments(&self) -> &[Attachment] {
        &self.attachments
    }

    /// Detaches the program from every interface.
    pub fn detach_all(&mut self) {
        let Ok(prog) = xdp_mut(&mut self.ebpf, PROG_DIRECTOR) else { return };
        for a in self.attachments.drain(..) {
            if let Err(e) = prog.detach(a.link) {
                tracing::warn!(interface = a.interface, error = %e, "detach failed");
            }
        }
    }

    /// A loaded XDP program of the object by name.
    pub(crate) fn program(&self, name: &str) -> Option<&Xdp> {
        self.ebpf.program(name).and_then(|p| p.try_into().ok())
    }

    /// The director program, for test runs and statistics.
    pub fn director(&self) -> Result<&Xdp, DataplaneError> {
        self.ebpf
            .program(PROG_DIRECTOR)
            .and_then(|p| p.try_into().ok())
            .ok_or(DataplaneError::Program { program: PROG_DIRECTOR, source: ProgramError::NotLoaded })
    }

    /// Detaches everything and removes the instance's pins: nothing is left behind.
    pub fn teardown(mut self) {
        self.detach_all();
        let dir = self.pin_dir.clone();
        drop(self);
        if let Err(e) = bpffs::remove_instance_dir(&dir) {
            tracing::warn!(path = %dir.display(), error = %e, "could not remove pins");
        }
    }
}

impl Drop for Dataplane {
    fn drop(&mut self) {
        self.detach_all();
    }
}

fn xdp_mut<'a>(ebpf: &'a mut aya::Ebpf, name: &'static str) -> Result<&'a mut Xdp, DataplaneError> {
    ebpf.program_mut(name)
        .and_then(|p| p.try_into().ok())
        .ok_or(DataplaneError::Program { program: name, source: ProgramError::NotLoaded })
}

/// Refuses maps pinned by an rvsd with another layout (the first field of `config` is always the
/// ABI version).
fn check_pinned_abi(pin_dir: &Path) -> Result<(), DataplaneError> {
    let path = pin_dir.join("config");
    let data = aya::maps::MapData::from_pin(&path)
        .map_err(|source| DataplaneError::Map { name: "config", source })?;
    let view: MmapArray<u32> =
        MmapArray::new(data.fd(), 1).map_err(|source| DataplaneError::Mmap { name: "config", source })?;
    let found = view.get(0).map_or(0, |p| {
        // SAFETY: p points into the live mapping.
        unsafe { std::ptr::read_volatile(p) }
    });
    if found != RVS_ABI_VERSION {
        return Err(DataplaneError::AbiMismatch { path: pin_dir.to_owned(), found, expected: RVS_ABI_VERSION });
    }
    Ok(())
}

/// IPVS's default tables and timeouts, so that fresh maps are usable before the daemon applies
/// its own settings.
fn init_config(config: &MmapArray<RvsConfig>) {
    let cfg = build_config(&rvs_core::conn::Timeouts::default(), ConnSettings::default());
    // Fresh maps are not attached yet, so nothing reads the element concurrently.
    config.write_unpublished(0, cfg);
}
