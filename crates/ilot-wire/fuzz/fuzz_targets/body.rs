//! The first byte picks the kind of message and the codec; the rest is the sealed body as the
//! server (or the device) would decompress and decode it once it authenticated.
#![no_main]

use ilot_wire::Kind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let kind = [Kind::Batch, Kind::PullRequest, Kind::Pull, Kind::Ack][usize::from(pick & 3)];
    let _ = ilot_wire::raw::decode_body(kind, (pick >> 2) & 1, body);
});
