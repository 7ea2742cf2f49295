//! CRC-16/MCRF4XX, the CGMS E2E-CRC: the CCITT polynomial x¹⁶+x¹²+x⁵+1 processed LSB first
//! (reflected, 0x8408), seed 0xFFFF, no final XOR (CGMS 1.0.2 § 2.5 "CRC calculation"). It is
//! computed over every byte of a record before the CRC field and sent little-endian.

/// CRC-16/MCRF4XX of `bytes`. Check value for "123456789" is 0x6F91 (CRC catalogue).
pub fn crc16_mcrf4xx(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_check_value() {
        assert_eq!(crc16_mcrf4xx(b"123456789"), 0x6F91);
    }

    #[test]
    fn empty_is_the_seed() {
        assert_eq!(crc16_mcrf4xx(&[]), 0xFFFF);
    }
}
