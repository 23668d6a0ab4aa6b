//! Every command's help, golden runs of the offline commands, and their error paths: the
//! cases under `tests/cmd/` (each a `.toml` with the `.stdout` and `.stderr` it must print,
//! generated with `TRYCMD=overwrite` and reviewed). The environment is emptied for each case,
//! so nothing on the machine running the tests leaks in.

#[test]
fn command_line_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
