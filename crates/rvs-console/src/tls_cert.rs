//! The console's TLS certificate, read again when its files change: a renewed certificate
//! (certbot, an internal CA's rotation) is served from the next handshake on, without
//! restarting rvsd and so without moving the VIPs. A renewal that does not load is logged and
//! the certificate in force stays, as a bad configuration file leaves the running one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::staged_file::{Stamp, stamp};

/// Reads the certificate chain and its key. A key others can read is refused, as the password
/// file is.
pub fn load(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey> {
    use std::os::unix::fs::MetadataExt as _;
    let mode = std::fs::metadata(key).with_context(|| format!("the console key {}", key.display()))?.mode();
    if mode & 0o077 != 0 {
        anyhow::bail!("the console key {} has mode {:04o}: others can read it (chmod 600 {})", key.display(), mode & 0o7777, key.display());
    }
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the console certificate {}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("the console certificate {} holds no certificate", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the console key {}", key.display()))?;
    CertifiedKey::from_der(certs, key_der, provider).context("the console certificate and key do not go together")
}

/// The certificate in force and the stamps of the files it was read from.
#[derive(Debug)]
struct InForce {
    stamps: (Stamp, Stamp),
    key: Arc<CertifiedKey>,
}

/// A certificate resolver that follows its files.
#[derive(Debug)]
pub struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    in_force: Mutex<InForce>,
}

impl CertFiles {
    /// Reads the files once; a certificate that does not load is refused here.
    pub fn new(cert: &Path, key: &Path, provider: Arc<CryptoProvider>) -> Result<Self> {
        let stamps = (stamp(cert), stamp(key));
        let certified = load(cert, key, &provider)?;
        Ok(CertFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            in_force: Mutex::new(InForce { stamps, key: Arc::new(certified) }),
        })
    }

    /// The certificate to serve now: read again first if either file changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut in_force = self.in_force.lock().unwrap_or_else(PoisonError::into_inner);
        let stamps = (stamp(&self.cert), stamp(&self.key));
        if stamps != in_force.stamps {
            // Tried once per change: a broken renewal is not read again at every handshake.
            in_force.stamps = stamps;
            match load(&self.cert, &self.key, &self.provider) {
                Ok(certified) => {
                    in_force.key = Arc::new(certified);
                    tracing::info!(certificate = %self.cert.display(), "the console's certificate changed on disk: serving the new one");
                }
                Err(e) => tracing::error!(error = %format!("{e:#}"), "the console's certificate changed on disk but does not load: the one in force stays"),
            }
        }
        in_force.key.clone()
    }
}

impl ResolvesServerCert for CertFiles {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn write(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
        let certified = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let (cert, key) = (dir.join("console.crt"), dir.join("console.key"));
        // A new file renamed into place, as certbot and staged writes do.
        let staged = dir.join("staged.key");
        std::fs::write(&staged, certified.signing_key.serialize_pem()).unwrap();
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::rename(&staged, &key).unwrap();
        let staged = dir.join("staged.crt");
        std::fs::write(&staged, certified.cert.pem()).unwrap();
        std::fs::rename(&staged, &cert).unwrap();
        (cert, key, certified.cert.der().to_vec())
    }

    #[test]
    fn a_renewed_certificate_is_served_and_a_broken_renewal_keeps_the_old_one() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (cert, key, first) = write(dir, "lvs1.example");
        let files = CertFiles::new(&cert, &key, provider).unwrap();
        assert_eq!(files.current().cert[0].as_ref(), first.as_slice());
        let (_, _, second) = write(dir, "lvs1.example");
        assert_eq!(files.current().cert[0].as_ref(), second.as_slice(), "the renewal is served");
        // A certificate that does not go with the key: the renewal in force stays.
        let other = rcgen::generate_simple_self_signed(vec!["other.example".to_owned()]).unwrap();
        let staged = dir.join("staged.crt");
        std::fs::write(&staged, other.cert.pem()).unwrap();
        std::fs::rename(&staged, &cert).unwrap();
        assert_eq!(files.current().cert[0].as_ref(), second.as_slice(), "a broken renewal is not served");
        // A key others can read is refused at start.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = CertFiles::new(&cert, &key, Arc::new(rustls::crypto::ring::default_provider())).err().map(|e| format!("{e:#}"));
        assert!(refused.is_some_and(|e| e.contains("chmod 600")));
    }
}
