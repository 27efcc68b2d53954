#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| basic_admin_server::fuzzing::image(data));
