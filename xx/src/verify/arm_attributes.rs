//! A reader for the `.ARM.attributes` section (ARM ABI "Addenda", build
//! attributes), which records what a 32-bit ARM object needs from the CPU.
//! goblin does not parse it, and it is the only place an ELF says "ARMv7"
//! rather than just "ARM".
//!
//! Layout: `'A'`, then subsections `{u32 length, vendor NTBS, data}`; in the
//! `aeabi` vendor's data, sub-subsections `{uleb tag, u32 size, attributes}`
//! where tag 1 is "whole file". Attributes are `uleb tag` followed by a uleb
//! or a NUL-terminated string, depending on the tag.

use super::bytes::read_u32;

/// The attributes xx-verify uses; `None` where the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArmAttributes {
    /// Tag_CPU_name (5), e.g. `ARM1176JZF-S`, `7-A`.
    pub cpu_name: Option<String>,
    /// Tag_CPU_arch (6): 4 = v5TE, 6 = v6, 7 = v6KZ, 10 = v7, 14 = v8-A, ...
    pub cpu_arch: Option<u64>,
    /// Tag_CPU_arch_profile (7): `A`, `R`, `M`, `S`.
    pub cpu_arch_profile: Option<u64>,
    /// Tag_FP_arch (10): 0 none, 1 VFPv1, 2 VFPv2, 3/4 VFPv3, 5/6 VFPv4, 7/8 FP-ARMv8.
    pub fp_arch: Option<u64>,
    /// Tag_Advanced_SIMD_arch (12): 0 none, 1 NEON, 2 NEON+FMA, ...
    pub simd_arch: Option<u64>,
    /// Tag_ABI_VFP_args (28): 0 base (soft-float), 1 VFP registers (hard-float), 3 no FP args.
    pub vfp_args: Option<u64>,
}

const TAG_FILE: u64 = 1;
const TAG_CPU_RAW_NAME: u64 = 4;
const TAG_CPU_NAME: u64 = 5;
const TAG_CPU_ARCH: u64 = 6;
const TAG_CPU_ARCH_PROFILE: u64 = 7;
const TAG_FP_ARCH: u64 = 10;
const TAG_SIMD_ARCH: u64 = 12;
const TAG_ABI_VFP_ARGS: u64 = 28;
const TAG_COMPATIBILITY: u64 = 32;
const TAG_ALSO_COMPATIBLE_WITH: u64 = 65;
const TAG_CONFORMANCE: u64 = 67;

/// The `Tag_CPU_arch` names, indexed by value.
const CPU_ARCH_NAMES: &[&str] = &[
    "pre-v4",
    "v4",
    "v4T",
    "v5T",
    "v5TE",
    "v5TEJ",
    "v6",
    "v6KZ",
    "v6T2",
    "v6K",
    "v7",
    "v6-M",
    "v6S-M",
    "v7E-M",
    "v8-A",
    "v8-R",
    "v8-M.baseline",
    "v8-M.mainline",
    "v8.1-A",
    "v8.2-A",
    "v8.3-A",
    "v8.1-M.mainline",
    "v9-A",
];

/// The name of a Tag_CPU_arch value (`v7`, `v6KZ`), or `arch#N` for unknown ones.
pub fn cpu_arch_name(value: u64) -> String {
    usize::try_from(value)
        .ok()
        .and_then(|i| CPU_ARCH_NAMES.get(i))
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("arch#{value}"))
}

/// Parses the section contents. Malformed data ends parsing and returns what
/// was read so far: the section is advice, and a truncated one must not make
/// a good binary fail or a bad input panic.
pub fn parse(data: &[u8], big_endian: bool) -> ArmAttributes {
    let mut attrs = ArmAttributes::default();
    let Some((&b'A', mut rest)) = data.split_first() else {
        return attrs;
    };
    while rest.len() >= 4 {
        let Some(len) = read_u32(rest, 0, !big_endian) else {
            break;
        };
        let len = len as usize;
        if len < 4 || len > rest.len() {
            break;
        }
        let (subsection, after) = rest.split_at(len);
        rest = after;
        let body = &subsection[4..];
        let Some(nul) = body.iter().position(|&b| b == 0) else {
            break;
        };
        if &body[..nul] == b"aeabi" {
            parse_vendor_data(&body[nul + 1..], big_endian, &mut attrs);
        }
    }
    attrs
}

fn parse_vendor_data(mut data: &[u8], big_endian: bool, attrs: &mut ArmAttributes) {
    while !data.is_empty() {
        let Some((tag, n)) = read_uleb(data) else {
            return;
        };
        if data.len() < n + 4 {
            return;
        }
        let Some(size) = read_u32(data, n, !big_endian) else {
            return;
        };
        let size = size as usize;
        if size < n + 4 || size > data.len() {
            return;
        }
        if tag == TAG_FILE {
            parse_attributes(&data[n + 4..size], attrs);
        }
        data = &data[size..];
    }
}

fn parse_attributes(mut data: &[u8], attrs: &mut ArmAttributes) {
    while !data.is_empty() {
        let Some((tag, n)) = read_uleb(data) else {
            return;
        };
        data = &data[n..];
        let is_string = matches!(
            tag,
            TAG_CPU_RAW_NAME | TAG_CPU_NAME | TAG_ALSO_COMPATIBLE_WITH | TAG_CONFORMANCE
        ) || (tag > TAG_COMPATIBILITY && tag % 2 == 1);
        if tag == TAG_COMPATIBILITY {
            // A uleb flag followed by a vendor name.
            let Some((_, n)) = read_uleb(data) else {
                return;
            };
            data = &data[n..];
            let Some(nul) = data.iter().position(|&b| b == 0) else {
                return;
            };
            data = &data[nul + 1..];
        } else if is_string {
            let Some(nul) = data.iter().position(|&b| b == 0) else {
                return;
            };
            if tag == TAG_CPU_NAME {
                attrs.cpu_name = Some(String::from_utf8_lossy(&data[..nul]).into_owned());
            }
            data = &data[nul + 1..];
        } else {
            let Some((value, n)) = read_uleb(data) else {
                return;
            };
            data = &data[n..];
            match tag {
                TAG_CPU_ARCH => attrs.cpu_arch = Some(value),
                TAG_CPU_ARCH_PROFILE => attrs.cpu_arch_profile = Some(value),
                TAG_FP_ARCH => attrs.fp_arch = Some(value),
                TAG_SIMD_ARCH => attrs.simd_arch = Some(value),
                TAG_ABI_VFP_ARGS => attrs.vfp_args = Some(value),
                _ => {}
            }
        }
    }
}

/// Unsigned LEB128: the value and how many bytes it took; `None` if it runs
/// off the end or does not fit in 64 bits.
fn read_uleb(data: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in data.iter().enumerate().take(10) {
        let bits = u64::from(b & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && bits > 1 {
            return None;
        }
        value |= bits << shift;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a section as an assembler would: one aeabi subsection, File scope.
    fn section(attrs: &[u8]) -> Vec<u8> {
        let mut file = vec![TAG_FILE as u8];
        file.extend_from_slice(&((attrs.len() + 5) as u32).to_le_bytes());
        file.extend_from_slice(attrs);
        let mut sub = Vec::new();
        sub.extend_from_slice(&((4 + 6 + file.len()) as u32).to_le_bytes());
        sub.extend_from_slice(b"aeabi\0");
        sub.extend_from_slice(&file);
        let mut out = vec![b'A'];
        out.extend_from_slice(&sub);
        out
    }

    #[test]
    fn reads_the_tags_we_use() {
        // Tag_CPU_name "7-A", Tag_CPU_arch v7, profile 'A', FP VFPv3, NEON, VFP args, compat.
        let data = section(&[
            5, b'7', b'-', b'A', 0, 6, 10, 7, b'A', 10, 3, 12, 1, 28, 1, 32, 1, b'x', 0, 34, 1,
        ]);
        let a = parse(&data, false);
        assert_eq!(a.cpu_name.as_deref(), Some("7-A"));
        assert_eq!(a.cpu_arch, Some(10));
        assert_eq!(a.cpu_arch_profile, Some(u64::from(b'A')));
        assert_eq!(a.fp_arch, Some(3));
        assert_eq!(a.simd_arch, Some(1));
        assert_eq!(a.vfp_args, Some(1));
        assert_eq!(cpu_arch_name(10), "v7");
        assert_eq!(cpu_arch_name(7), "v6KZ");
        assert_eq!(cpu_arch_name(99), "arch#99");
    }

    #[test]
    fn garbage_never_panics() {
        let good = section(&[6, 6, 28, 1]);
        for cut in 0..good.len() {
            let _ = parse(&good[..cut], false);
            let _ = parse(&good[..cut], true);
        }
        for seed in 0u32..2000 {
            let bytes: Vec<u8> = (0..(seed % 64))
                .map(|i| (seed.wrapping_mul(2_654_435_761).wrapping_add(i * 97) >> 7) as u8)
                .collect();
            let mut data = vec![b'A'];
            data.extend_from_slice(&bytes);
            let _ = parse(&data, seed % 2 == 0);
        }
        assert_eq!(parse(&[], false), ArmAttributes::default());
        assert_eq!(parse(b"B", false), ArmAttributes::default());
    }

    #[test]
    fn uleb() {
        assert_eq!(read_uleb(&[0x7f]), Some((127, 1)));
        assert_eq!(read_uleb(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(read_uleb(&[0x80]), None);
        assert_eq!(read_uleb(&[0xff; 11]), None);
    }
}
