//! Prints the rules a scenario file breaks, with the derived quantities (a debugging aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: rules_of FILE");
    let loaded =
        faasim_sim::scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{:#?}",
        faasim_model::rules::derive(&loaded.config, &loaded.events)
    );
    for breach in faasim_model::rules::check(&loaded.config, &loaded.events) {
        println!("{}: {}", breach.rule.id, breach.detail);
    }
}
