#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| basic_admin_core::fuzzing::schemas(data));
