//! Reading fixed-size integers from untrusted byte slices: out of range is
//! `None`, never a panic. Shared by the ELF and `.ARM.attributes` readers.

/// A `u16` at `off` in the given byte order, if in range.
pub fn read_u16(data: &[u8], off: usize, little: bool) -> Option<u16> {
    let b: [u8; 2] = data.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(if little {
        u16::from_le_bytes(b)
    } else {
        u16::from_be_bytes(b)
    })
}

/// A `u32` at `off` in the given byte order, if in range.
pub fn read_u32(data: &[u8], off: usize, little: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}
