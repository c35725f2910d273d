//! Prints the version of the OpenSSL it was linked against: proof that
//! openssl-sys found the *target's* libssl through pkg-config.

use std::ffi::CStr;

fn main() {
    openssl_sys::init();
    // SAFETY: OpenSSL_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(openssl_sys::OpenSSL_version(openssl_sys::OPENSSL_VERSION)) };
    println!("linked {} on {}", version.to_string_lossy(), std::env::consts::ARCH);
}
