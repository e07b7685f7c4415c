//! Compiles `proto/` with protox (a pure-Rust protobuf compiler) and prost-build: no `protoc`.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto");
    let file = "dark_tower/signaling/v1/signaling.proto";
    println!("cargo:rerun-if-changed={}", root.join(file).display());
    let fds = match protox::compile([file], [&root]) {
        Ok(fds) => fds,
        Err(e) => panic!("proto/{file} does not compile: {e}"),
    };
    let mut config = prost_build::Config::new();
    config.bytes(["."]);
    if let Err(e) = config.compile_fds(fds) {
        panic!("prost-build failed: {e}");
    }
}
