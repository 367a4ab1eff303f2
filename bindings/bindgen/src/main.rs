//! `uniffi-bindgen` pinned to the UniFFI version of `bluetick-uniffi`: generates the Kotlin,
//! Swift and Python layers from the compiled library (`generate --library ...`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
