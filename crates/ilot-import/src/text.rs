//! Bytes to text: a BOM names the encoding (UTF-8, UTF-16); without one, UTF-8 when the bytes
//! are valid UTF-8, else Windows-1252 (spreadsheets re-saving a French export). The BOM is
//! dropped; line ends are left as they are (the CSV reader counts CRLF as one line).

use std::borrow::Cow;

pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return text;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_and_legacy_bytes() {
        assert_eq!(decode(b"\xEF\xBB\xBFIndex,a"), "Index,a");
        assert_eq!(decode(b"\xFF\xFEa\0,\0b\0"), "a,b");
        assert_eq!(decode(b"Cr\xE9\xE9 le"), "Créé le");
        assert_eq!(decode("Créé le".as_bytes()), "Créé le");
    }
}
