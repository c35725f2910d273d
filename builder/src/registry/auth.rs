//! Registry credentials the way docker finds them: `$DOCKER_CONFIG/config.json`
//! (or `~/.docker/config.json`), its `auths` entries, `credHelpers` and
//! `credsStore`. No credentials means anonymous; the token dance (bearer) or
//! basic auth, whichever the registry asks for, is done by `download` for
//! pulls and by oci-client for pushes.

use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;

/// The keys docker may have stored a registry's credentials under.
fn server_keys(registry: &str) -> Vec<String> {
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        return vec![
            "https://index.docker.io/v1/".to_string(),
            "index.docker.io".to_string(),
            "docker.io".to_string(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ]
}

/// Credentials for `registry` (as written in the reference, e.g. `docker.io`).
/// A broken helper is reported on stderr and the request goes anonymous, as
/// docker does, so public images still pull.
pub fn for_registry(registry: &str) -> RegistryAuth {
    for key in server_keys(registry) {
        match docker_credential::get_credential(&key) {
            Ok(DockerCredential::UsernamePassword(u, p)) => return RegistryAuth::Basic(u, p),
            // An identity token is an OAuth refresh token; registries that
            // issue them accept it as the password of the `<token>` user.
            Ok(DockerCredential::IdentityToken(t)) => {
                return RegistryAuth::Basic("<token>".to_string(), t);
            }
            Err(
                CredentialRetrievalError::ConfigNotFound
                | CredentialRetrievalError::ConfigReadError
                | CredentialRetrievalError::NoCredentialConfigured,
            ) => {}
            Err(e) => {
                eprintln!("warning: credentials for {key}: {e}; continuing anonymously");
                return RegistryAuth::Anonymous;
            }
        }
    }
    RegistryAuth::Anonymous
}
