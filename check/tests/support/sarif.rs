//! SARIF 2.1.0 validation against the OASIS JSON schema (vendored from serde-sarif 0.8.0,
//! see tests/fixtures/sarif-schema-2.1.0.NOTICE.md), shared by the check tests.

use serde_json::Value;

/// The SARIF 2.1.0 schema, compiled.
pub fn sarif_validator() -> jsonschema::Validator {
    // Relative to this file, so every test crate that includes it finds the schema.
    let text = include_str!("../fixtures/sarif-schema-2.1.0.json").to_string();
    // The published schema's `run.language` pattern has a stray `]`
    // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`). ECMA-262 reads it as a literal `]`, but the
    // draft-07 meta-schema's `format: regex` check rejects it, so the schema would not compile.
    // Escape it here, meaning unchanged, and keep the vendored file a verbatim copy.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(stray), "the vendored schema changed");
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: Value = serde_json::from_str(&text).expect("JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Parses `text` and checks it against the schema.
pub fn assert_valid_sarif(text: &str) -> Value {
    let instance: Value = serde_json::from_str(text).expect("valid JSON");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
    instance
}
