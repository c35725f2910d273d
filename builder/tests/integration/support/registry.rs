//! A `docker-registry` for tests: started on a free loopback port with a
//! config written here (optionally htpasswd basic auth), stopped on drop.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A registry process on 127.0.0.1:<free port>, killed on drop.
pub struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    pub fn start(dir: &Path, htpasswd: Option<(&str, &str)>) -> Registry {
        let port = super::free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("data").display()
        );
        if let Some((user, pw)) = htpasswd {
            // The registry only takes bcrypt hashes; Debian's python3-bcrypt makes one.
            let out = Command::new("/usr/bin/python3")
                .args([
                    "-c",
                    &format!(
                        "import bcrypt; print(bcrypt.hashpw(b'{pw}', bcrypt.gensalt(4)).decode())"
                    ),
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "python3-bcrypt is needed");
            let hash = String::from_utf8_lossy(&out.stdout).into_owned();
            fs::write(dir.join("htpasswd"), format!("{user}:{}", hash.trim())).unwrap();
            config += &format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.join("htpasswd").display()
            );
        }
        fs::write(dir.join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        super::wait_for_port(port, "registry");
        Registry { child, port }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
