//! Compile-fail tests: each file under `tests/ui/<area>/` is one misuse that must not compile,
//! with the compiler's message pinned in the `.stderr` beside it (generated with
//! `TRYBUILD=overwrite` and reviewed).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
