//! What kind of binary a file is (ELF, PE, Mach-O, universal Mach-O or none),
//! and the few fields of PE and Mach-O files that name their CPU.

use std::fs::File;
use std::os::unix::fs::FileExt;

use goblin::pe::header::{CoffHeader, DosHeader, PE_MAGIC};
use scroll::Pread;

use super::elf::{self, ElfInfo};

/// A parsed binary: only the parts xx-verify checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binary {
    /// ELF (Linux and the BSDs), boxed: it is far larger than the others.
    Elf(Box<ElfInfo>),
    /// PE/COFF (Windows): the COFF `Machine` and whether it is PE32+.
    Pe {
        /// IMAGE_FILE_MACHINE_*.
        machine: u16,
    },
    /// Mach-O, thin or universal: the `cputype` of every slice.
    MachO {
        /// CPU types (with the ABI64 bit), one per slice.
        cputypes: Vec<u32>,
        /// Whether this is a universal ("fat") file.
        universal: bool,
    },
    /// A WebAssembly module (`\0asm`), the binary of `wasi/wasm`.
    Wasm {
        /// The binary format version (1 for every module today).
        version: u32,
    },
}

/// How much of a PE or Mach-O file's start we read: every header we need lies there.
const HEAD: u64 = 4096;
/// A universal binary with more slices than this is something else (Java class files share the magic).
const MAX_FAT_ARCHES: u32 = 32;

/// Opens nothing and reads only headers: `file` is already open, `len` is its size.
pub fn inspect(file: &File, len: u64) -> Result<Binary, String> {
    let mut magic = [0u8; 16];
    let n = len.min(16) as usize;
    file.read_exact_at(&mut magic[..n], 0)
        .map_err(|e| format!("cannot read: {e}"))?;
    if n < 4 {
        return Err("not an executable binary (file too short)".to_string());
    }
    if &magic[..4] == b"\x7fELF" {
        return elf::read(file, len).map(|e| Binary::Elf(Box::new(e)));
    }
    if &magic[..4] == b"\0asm" {
        if n < 8 {
            return Err("truncated WebAssembly header".to_string());
        }
        let version = u32::from_le_bytes([magic[4], magic[5], magic[6], magic[7]]);
        return Ok(Binary::Wasm { version });
    }
    let head_len = len.min(HEAD) as usize;
    let mut head = vec![0u8; head_len];
    file.read_exact_at(&mut head, 0)
        .map_err(|e| format!("cannot read: {e}"))?;
    if &magic[..2] == b"MZ" {
        return pe_machine(&head).map(|machine| Binary::Pe { machine });
    }
    let be = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
    match be {
        0xfeed_face | 0xfeed_facf | 0xcefa_edfe | 0xcffa_edfe => {
            let little = matches!(be, 0xcefa_edfe | 0xcffa_edfe);
            let endian = if little { scroll::LE } else { scroll::BE };
            let cputype: u32 = head
                .pread_with(4, endian)
                .map_err(|_| "truncated Mach-O header".to_string())?;
            Ok(Binary::MachO {
                cputypes: vec![cputype],
                universal: false,
            })
        }
        0xcafe_babe => {
            let count: u32 = head
                .pread_with(4, scroll::BE)
                .map_err(|_| "truncated universal Mach-O header".to_string())?;
            if count == 0 || count > MAX_FAT_ARCHES {
                return Err("not an executable binary (0xcafebabe but not a universal Mach-O file; a Java class?)".to_string());
            }
            let mut cputypes = Vec::new();
            for i in 0..count as usize {
                let cputype: u32 = head
                    .pread_with(8 + i * 20, scroll::BE)
                    .map_err(|_| "truncated universal Mach-O header".to_string())?;
                cputypes.push(cputype);
            }
            Ok(Binary::MachO {
                cputypes,
                universal: true,
            })
        }
        _ => Err(not_a_binary(&magic[..n])),
    }
}

fn pe_machine(head: &[u8]) -> Result<u16, String> {
    let dos = DosHeader::parse(head).map_err(|e| format!("bad DOS/PE header: {e}"))?;
    let mut off = dos.pe_pointer as usize;
    let sig: u32 = head
        .gread_with(&mut off, scroll::LE)
        .map_err(|_| "an MZ file without a PE header (DOS program?)".to_string())?;
    if sig != PE_MAGIC {
        return Err("an MZ file without a PE signature (DOS program?)".to_string());
    }
    let coff = CoffHeader::parse(head, &mut off).map_err(|e| format!("bad COFF header: {e}"))?;
    Ok(coff.machine)
}

/// A hint of what the file is instead, for the error message.
fn not_a_binary(magic: &[u8]) -> String {
    let what = if magic.starts_with(b"#!") {
        "a script (#!)"
    } else if magic.starts_with(b"!<arch>") {
        "an ar archive (static library?)"
    } else if magic
        .iter()
        .all(|&b| b == b'\n' || b == b'\t' || b == b'\r' || (0x20..0x7f).contains(&b))
    {
        "text"
    } else {
        "data"
    };
    format!("not an executable binary ({what})")
}
