//! Reads what xx-verify needs from an ELF file, and nothing more: the header,
//! program headers, PT_INTERP, the dynamic section (DT_NEEDED, RPATH/RUNPATH,
//! GNU version requirements), ABI notes, and for ARM the `.ARM.attributes`
//! section. Each piece is read with a positioned read of its own range, so a
//! 200 MB binary costs a few kilobytes of I/O.
//!
//! goblin decodes the fixed structures; everything read is bounds-checked,
//! so a truncated or hostile file gives an error, never a panic.

use std::fs::File;
use std::os::unix::fs::FileExt;

use goblin::container::{Container, Ctx};
use goblin::elf::dynamic::{self, Dyn};
use goblin::elf::program_header::{self, ProgramHeader};
use goblin::elf::section_header::SectionHeader;
use goblin::elf::{Elf, header};
use scroll::Pread;

use super::arm_attributes::{self, ArmAttributes};
use super::bytes::{read_u16, read_u32};
use crate::target::Endian;

/// Largest piece of a file we agree to read for one structure: real tables
/// are far smaller, and a hostile header must not make us allocate gigabytes.
const MAX_READ: u64 = 16 << 20;

/// `SHT_ARM_ATTRIBUTES`.
const SHT_ARM_ATTRIBUTES: u32 = 0x7000_0003;
/// `DT_VERNEED` and `DT_VERNEEDNUM` (GNU symbol versioning).
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// `DT_VERDEF` and `DT_VERDEFNUM`: the versions a library defines.
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
/// `VER_FLG_BASE`: the Verdef naming the file itself, not a version.
const VER_FLG_BASE: u16 = 1;
/// `EI_OSABI` values `file` names.
const OSABI_NETBSD: u8 = 2;
const OSABI_FREEBSD: u8 = 9;
const OSABI_OPENBSD: u8 = 12;

/// What an ELF file says about where it can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// 32 or 64.
    pub bits: u8,
    /// Byte order.
    pub endian: Endian,
    /// `e_machine`.
    pub machine: u16,
    /// `e_type` (ET_EXEC, ET_DYN, ...).
    pub e_type: u16,
    /// `e_flags` (ARM: EABI version and float ABI bits).
    pub flags: u32,
    /// The OS named by EI_OSABI or an ABI note: `FreeBSD`, `NetBSD`, `OpenBSD`; `None` = Linux/SysV.
    pub os: Option<&'static str>,
    /// PT_INTERP: the dynamic loader path.
    pub interp: Option<String>,
    /// Whether there is a PT_DYNAMIC segment.
    pub has_dynamic: bool,
    /// DT_NEEDED libraries.
    pub needed: Vec<String>,
    /// DT_RPATH entries (colon lists kept as one string each).
    pub rpath: Vec<String>,
    /// DT_RUNPATH entries.
    pub runpath: Vec<String>,
    /// Version names required from other objects (`GLIBC_2.34`, `GCC_3.0`, ...).
    pub version_needs: Vec<String>,
    /// The same, per library: (`libc.so.6`, [`GLIBC_2.34`, ...]), as the
    /// loader checks them.
    pub needs_by_library: Vec<(String, Vec<String>)>,
    /// Version names this object defines (a library: `GLIBC_2.36`, ...).
    pub version_defs: Vec<String>,
    /// ARM build attributes, for 32-bit ARM files that have them.
    pub arm: Option<ArmAttributes>,
}

impl ElfInfo {
    /// No loader and no shared libraries: runs on any distro (static-pie included).
    pub fn is_static(&self) -> bool {
        self.interp.is_none() && self.needed.is_empty()
    }

    /// The highest `GLIBC_x.y[.z]` version required, if any.
    pub fn max_glibc(&self) -> Option<(u32, u32, u32)> {
        self.version_needs
            .iter()
            .filter_map(|v| parse_glibc_version(v))
            .max()
    }
}

/// `GLIBC_2.34` -> (2, 34, 0); other names (GLIBC_PRIVATE, GCC_3.0) -> None.
pub fn parse_glibc_version(name: &str) -> Option<(u32, u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.').map(|p| p.parse::<u32>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// Reads ranges of one file, refusing ranges past its end or over MAX_READ.
struct Ranged<'a> {
    file: &'a File,
    len: u64,
}

impl Ranged<'_> {
    fn read(&self, offset: u64, size: u64, what: &str) -> Result<Vec<u8>, String> {
        let end = offset
            .checked_add(size)
            .ok_or_else(|| format!("{what} lies beyond the end of the file"))?;
        if end > self.len {
            return Err(format!(
                "truncated ELF file: {what} ends at byte {end}, but the file has {} bytes",
                self.len
            ));
        }
        if size > MAX_READ {
            return Err(format!("{what} is implausibly large ({size} bytes)"));
        }
        let mut buf = vec![0u8; size as usize];
        self.file
            .read_exact_at(&mut buf, offset)
            .map_err(|e| format!("cannot read {what}: {e}"))?;
        Ok(buf)
    }
}

/// Parses an ELF file whose first bytes were already seen to be `\x7fELF`.
pub fn read(file: &File, len: u64) -> Result<ElfInfo, String> {
    let r = Ranged { file, len };
    let ident_len = len.min(header::header64::SIZEOF_EHDR as u64);
    let head = r.read(0, ident_len, "the ELF header")?;
    let hdr = Elf::parse_header(&head).map_err(|e| format!("bad ELF header: {e}"))?;
    let container = hdr.container().map_err(|e| format!("bad ELF class: {e}"))?;
    let le = hdr
        .endianness()
        .map_err(|e| format!("bad ELF byte order: {e}"))?;
    let ctx = Ctx::new(container, le);
    let bits = if container == Container::Big { 64 } else { 32 };
    let endian = if le.is_little() {
        Endian::Little
    } else {
        Endian::Big
    };

    let phdrs = read_program_headers(&r, &hdr, ctx)?;
    let mut info = ElfInfo {
        bits,
        endian,
        machine: hdr.e_machine,
        e_type: hdr.e_type,
        flags: hdr.e_flags,
        os: match hdr.e_ident[header::EI_OSABI] {
            OSABI_FREEBSD => Some("FreeBSD"),
            OSABI_NETBSD => Some("NetBSD"),
            OSABI_OPENBSD => Some("OpenBSD"),
            _ => None,
        },
        interp: None,
        has_dynamic: false,
        needed: Vec::new(),
        rpath: Vec::new(),
        runpath: Vec::new(),
        version_needs: Vec::new(),
        needs_by_library: Vec::new(),
        version_defs: Vec::new(),
        arm: None,
    };

    for ph in &phdrs {
        match ph.p_type {
            program_header::PT_INTERP => {
                let bytes = r.read(ph.p_offset, ph.p_filesz, "PT_INTERP")?;
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                info.interp = Some(String::from_utf8_lossy(&bytes[..end]).into_owned());
            }
            program_header::PT_NOTE if info.os.is_none() => {
                let bytes = r.read(ph.p_offset, ph.p_filesz, "PT_NOTE")?;
                info.os = note_os(&bytes, le.is_little());
            }
            _ => {}
        }
    }
    if let Some(dyn_ph) = phdrs
        .iter()
        .find(|p| p.p_type == program_header::PT_DYNAMIC)
    {
        info.has_dynamic = true;
        read_dynamic(&r, &phdrs, dyn_ph, ctx, &mut info)?;
    }
    if hdr.e_machine == header::EM_ARM {
        info.arm = read_arm_attributes(&r, &hdr, ctx)?;
    }
    Ok(info)
}

fn read_program_headers(
    r: &Ranged<'_>,
    hdr: &header::Header,
    ctx: Ctx,
) -> Result<Vec<ProgramHeader>, String> {
    let count = hdr.e_phnum as usize;
    if count == 0 {
        return Ok(Vec::new());
    }
    let size = ProgramHeader::size(ctx);
    if hdr.e_phentsize as usize != size {
        return Err(format!(
            "bad ELF header: program header size {} (expected {size})",
            hdr.e_phentsize
        ));
    }
    let bytes = r.read(hdr.e_phoff, (count * size) as u64, "the program headers")?;
    ProgramHeader::parse(&bytes, 0, count, ctx).map_err(|e| format!("bad program headers: {e}"))
}

/// File offset of a virtual address, through the PT_LOAD that maps it.
fn vaddr_to_offset(phdrs: &[ProgramHeader], vaddr: u64) -> Option<u64> {
    phdrs
        .iter()
        .filter(|p| p.p_type == program_header::PT_LOAD)
        .find(|p| vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz)
        .map(|p| p.p_offset + (vaddr - p.p_vaddr))
}

fn read_dynamic(
    r: &Ranged<'_>,
    phdrs: &[ProgramHeader],
    dyn_ph: &ProgramHeader,
    ctx: Ctx,
    info: &mut ElfInfo,
) -> Result<(), String> {
    let bytes = r.read(dyn_ph.p_offset, dyn_ph.p_filesz, "the dynamic section")?;
    let mut entries = Vec::new();
    let mut off = 0usize;
    while off < bytes.len() {
        let Ok(d) = bytes.gread_with::<Dyn>(&mut off, ctx) else {
            break;
        };
        if d.d_tag == dynamic::DT_NULL {
            break;
        }
        entries.push(d);
    }
    let find = |tag: u64| entries.iter().find(|d| d.d_tag == tag).map(|d| d.d_val);
    let (Some(strtab), Some(strsz)) = (find(dynamic::DT_STRTAB), find(dynamic::DT_STRSZ)) else {
        return Ok(());
    };
    let strtab_off = vaddr_to_offset(phdrs, strtab)
        .ok_or("the dynamic string table is not mapped by any PT_LOAD")?;
    let strings = r.read(
        strtab_off,
        strsz.min(r.len - strtab_off.min(r.len)),
        "the dynamic string table",
    )?;
    let string_at = |idx: u64| -> Option<String> {
        let start = usize::try_from(idx).ok()?;
        let tail = strings.get(start..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&tail[..end]).into_owned())
    };
    for d in &entries {
        let list = match d.d_tag {
            dynamic::DT_NEEDED => &mut info.needed,
            dynamic::DT_RPATH => &mut info.rpath,
            dynamic::DT_RUNPATH => &mut info.runpath,
            _ => continue,
        };
        if let Some(s) = string_at(d.d_val) {
            list.push(s);
        }
    }
    if let (Some(verneed), Some(count)) = (find(DT_VERNEED), find(DT_VERNEEDNUM)) {
        if let Some(off) = vaddr_to_offset(phdrs, verneed) {
            let size = (r.len - off.min(r.len)).min(64 << 10);
            let data = r.read(off, size, "the version requirements")?;
            for (file_idx, name_idxs) in verneed_names(&data, count, ctx.le.is_little()) {
                let names: Vec<String> = name_idxs.iter().filter_map(|i| string_at(*i)).collect();
                info.version_needs.extend(names.iter().cloned());
                if let Some(file) = string_at(file_idx) {
                    info.needs_by_library.push((file, names));
                }
            }
        }
    }
    if let (Some(verdef), Some(count)) = (find(DT_VERDEF), find(DT_VERDEFNUM)) {
        if let Some(off) = vaddr_to_offset(phdrs, verdef) {
            let size = (r.len - off.min(r.len)).min(64 << 10);
            let data = r.read(off, size, "the version definitions")?;
            for name_idx in verdef_names(&data, count, ctx.le.is_little()) {
                if let Some(s) = string_at(name_idx) {
                    info.version_defs.push(s);
                }
            }
        }
    }
    Ok(())
}

/// The string-table index of the name of every version a `Verdef` chain
/// defines (the first `Verdaux` of each entry; the base entry, which names
/// the file, is skipped). Stops quietly at the first bad link; offsets are
/// added with overflow checks, as a hostile file chooses them.
fn verdef_names(data: &[u8], count: u64, little: bool) -> Vec<u64> {
    let u16_at = |base: usize, off: usize| read_u16(data, base.checked_add(off)?, little);
    let u32_at = |base: usize, off: usize| read_u32(data, base.checked_add(off)?, little);
    let mut names = Vec::new();
    let mut vd = 0usize;
    for _ in 0..count.min(4096) {
        let (Some(flags), Some(cnt), Some(aux), Some(next)) =
            (u16_at(vd, 2), u16_at(vd, 6), u32_at(vd, 12), u32_at(vd, 16))
        else {
            break;
        };
        if flags & VER_FLG_BASE == 0 && cnt > 0 {
            if let Some(name) = u32_at(vd, aux as usize) {
                names.push(u64::from(name));
            }
        }
        match (next, vd.checked_add(next as usize)) {
            (0, _) | (_, None) => break,
            (_, Some(n)) => vd = n,
        }
    }
    names
}

/// The string-table indices of every `Verneed` entry's file and its
/// `Vernaux` names (ELF gABI / LSB symbol versioning). Stops quietly at the
/// first bad link; offsets are added with overflow checks.
fn verneed_names(data: &[u8], count: u64, little: bool) -> Vec<(u64, Vec<u64>)> {
    let u16_at = |base: usize, off: usize| read_u16(data, base.checked_add(off)?, little);
    let u32_at = |base: usize, off: usize| read_u32(data, base.checked_add(off)?, little);
    let mut groups = Vec::new();
    let mut vn = 0usize;
    for _ in 0..count.min(1024) {
        let (Some(cnt), Some(file), Some(aux), Some(next)) =
            (u16_at(vn, 2), u32_at(vn, 4), u32_at(vn, 8), u32_at(vn, 12))
        else {
            break;
        };
        let mut names = Vec::new();
        let mut a = vn.checked_add(aux as usize);
        for _ in 0..cnt {
            let Some(at) = a else { break };
            let (Some(name), Some(anext)) = (u32_at(at, 8), u32_at(at, 12)) else {
                break;
            };
            names.push(u64::from(name));
            if anext == 0 {
                break;
            }
            a = at.checked_add(anext as usize);
        }
        groups.push((u64::from(file), names));
        match (next, vn.checked_add(next as usize)) {
            (0, _) | (_, None) => break,
            (_, Some(n)) => vn = n,
        }
    }
    groups
}

/// The OS an ABI-tag note names (`file` prints "for FreeBSD 14.0" from these).
fn note_os(data: &[u8], little: bool) -> Option<&'static str> {
    let u32_at = |o: usize| read_u32(data, o, little).map(|v| v as usize);
    let align4 = |n: usize| n.div_ceil(4) * 4;
    let mut off = 0usize;
    while off + 12 <= data.len() {
        let (namesz, descsz) = (u32_at(off)?, u32_at(off + 4)?);
        let name = data.get(off + 12..off + 12 + namesz)?;
        let name = name.strip_suffix(&[0]).unwrap_or(name);
        match name {
            b"FreeBSD" => return Some("FreeBSD"),
            b"NetBSD" => return Some("NetBSD"),
            b"OpenBSD" => return Some("OpenBSD"),
            _ => {}
        }
        off = off
            .checked_add(12)?
            .checked_add(align4(namesz))?
            .checked_add(align4(descsz))?;
    }
    None
}

fn read_arm_attributes(
    r: &Ranged<'_>,
    hdr: &header::Header,
    ctx: Ctx,
) -> Result<Option<ArmAttributes>, String> {
    let count = hdr.e_shnum as usize;
    if count == 0 || hdr.e_shoff == 0 {
        return Ok(None);
    }
    let size = SectionHeader::size(ctx);
    if hdr.e_shentsize as usize != size {
        return Ok(None);
    }
    let bytes = r.read(hdr.e_shoff, (count * size) as u64, "the section headers")?;
    let shdrs = SectionHeader::parse_from(&bytes, 0, count, ctx)
        .map_err(|e| format!("bad section headers: {e}"))?;
    let Some(sh) = shdrs.iter().find(|s| s.sh_type == SHT_ARM_ATTRIBUTES) else {
        return Ok(None);
    };
    let data = r.read(sh.sh_offset, sh.sh_size, ".ARM.attributes")?;
    Ok(Some(arm_attributes::parse(&data, !ctx.le.is_little())))
}

/// The contents of the sections named in `names` (at most `cap` bytes
/// each; a larger one is an error), in the order they appear in the file.
/// For the metadata toolchains embed in binaries: Go's `.go.buildinfo`,
/// cargo-auditable's `.dep-v0`. A file without section headers has none.
pub fn named_sections(
    file: &File,
    len: u64,
    names: &[&str],
    cap: u64,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let r = Ranged { file, len };
    let head = r.read(
        0,
        len.min(header::header64::SIZEOF_EHDR as u64),
        "the ELF header",
    )?;
    let hdr = Elf::parse_header(&head).map_err(|e| format!("bad ELF header: {e}"))?;
    let container = hdr.container().map_err(|e| format!("bad ELF class: {e}"))?;
    let le = hdr
        .endianness()
        .map_err(|e| format!("bad ELF byte order: {e}"))?;
    let ctx = Ctx::new(container, le);
    let count = hdr.e_shnum as usize;
    let size = SectionHeader::size(ctx);
    if count == 0 || hdr.e_shoff == 0 || hdr.e_shentsize as usize != size {
        return Ok(Vec::new());
    }
    let bytes = r.read(hdr.e_shoff, (count * size) as u64, "the section headers")?;
    let shdrs = SectionHeader::parse_from(&bytes, 0, count, ctx)
        .map_err(|e| format!("bad section headers: {e}"))?;
    let Some(strtab) = shdrs.get(hdr.e_shstrndx as usize) else {
        return Ok(Vec::new());
    };
    let strings = r.read(strtab.sh_offset, strtab.sh_size, "the section names")?;
    let mut out = Vec::new();
    for sh in &shdrs {
        let start = sh.sh_name;
        let Some(rest) = strings.get(start..) else {
            continue;
        };
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let Ok(name) = std::str::from_utf8(&rest[..end]) else {
            continue;
        };
        // SHT_NOBITS (8) occupies no bytes in the file.
        if !names.contains(&name) || sh.sh_type == 8 {
            continue;
        }
        if sh.sh_size > cap {
            return Err(format!(
                "section {name} is implausibly large ({} bytes)",
                sh.sh_size
            ));
        }
        out.push((name.to_string(), r.read(sh.sh_offset, sh.sh_size, name)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions() {
        assert_eq!(parse_glibc_version("GLIBC_2.34"), Some((2, 34, 0)));
        assert_eq!(parse_glibc_version("GLIBC_2.3.4"), Some((2, 3, 4)));
        assert_eq!(parse_glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc_version("GCC_3.0"), None);
    }

    #[test]
    fn notes() {
        let mut note = Vec::new();
        note.extend_from_slice(&8u32.to_le_bytes());
        note.extend_from_slice(&4u32.to_le_bytes());
        note.extend_from_slice(&1u32.to_le_bytes());
        note.extend_from_slice(b"FreeBSD\0");
        note.extend_from_slice(&[0; 4]);
        assert_eq!(note_os(&note, true), Some("FreeBSD"));
        assert_eq!(note_os(&note[..10], true), None);
        assert_eq!(note_os(&[0xff; 40], true), None);
    }

    /// Sections by name from a real ELF file: this test binary.
    #[test]
    fn named_sections_of_a_real_binary() {
        let f = File::open("/proc/self/exe").unwrap();
        let len = f.metadata().unwrap().len();
        let got = named_sections(&f, len, &[".text", ".no-such"], 1 << 30).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, ".text");
        assert!(!got[0].1.is_empty());
        assert!(
            named_sections(&f, len, &[".text"], 16).is_err(),
            "over the cap"
        );
    }
}
