//! Compile-fail tests: each file under `tests/ui/<area>/` is one misuse that must not compile,
//! with the compiler's message pinned in the `.stderr` beside it (generated with
//! `TRYBUILD=overwrite` and reviewed). Each file under `tests/ui-pass/` is a use that must
//! compile, where a misuse the API was designed against cannot arise.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
