fn main() {
    // Only the Node addon needs the N-API link arguments; the pure core builds without them.
    if std::env::var_os("CARGO_FEATURE_NODE").is_none() {
        return;
    }
    napi_build::setup();
    // On Linux, the functions loading and sending run go first, together (link/hot-text.ld,
    // made by scripts/hot-text.mjs): the kernel maps code in blocks around each page that runs,
    // so packed, far less of the addon becomes resident in the process that loads it.
    // CONNECTOR_HOT_TEXT=0 leaves the compiler's order (scripts/hot-text.mjs profiles that).
    println!("cargo:rerun-if-env-changed=CONNECTOR_HOT_TEXT");
    println!("cargo:rerun-if-changed=link/hot-text.ld");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var("CONNECTOR_HOT_TEXT").as_deref() != Ok("0") {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("link/hot-text.ld");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-T,{}", script.display());
    }
}
