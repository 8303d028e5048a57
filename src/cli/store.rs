//! `admint store`: check the session store for damage, and repair it from its journals.

use super::args::{StoreArgs, StoreCommand};
use super::{CliError, OutputFormat};
use crate::config::Paths;
use crate::store::{self, StoreCheck};

pub fn store(a: StoreArgs) -> Result<(), CliError> {
    let paths = Paths::from_env();
    match a.command {
        StoreCommand::Check { format } => {
            let opened = store::Store::open(&paths.data_dir).map_err(|e| CliError::usage(e.to_string()))?;
            let c = store::check(&opened).map_err(|e| CliError::failed(e.to_string()))?;
            if format == OutputFormat::Text {
                print_check(&c);
            } else {
                println!("{}", serde_json::to_string_pretty(&check_json(&c)).unwrap_or_default());
            }
            if c.is_healthy() {
                Ok(())
            } else {
                Err(CliError::failed(if c.loses_events() {
                    "the store is damaged and some events are in neither copy; `admint store repair` keeps everything before them"
                } else {
                    "the store is damaged but every event is still in one copy: `admint store repair` makes both whole"
                }))
            }
        }
        StoreCommand::Repair => {
            let (_store, r) = store::repair(&paths.data_dir).map_err(|e| CliError::failed(e.to_string()))?;
            if let Some(aside) = &r.moved_aside {
                println!("the database did not open ({}): moved it to {} and rebuilt it from the journals", r.before.database_damage.as_deref().unwrap_or(""), aside.display());
                println!("sessions made by admint builds without journals were only in that database: they are not in the new one (it is kept)");
            }
            for s in r.before.sessions.iter().filter(|s| s.is_damaged() || !s.findings.is_empty()) {
                for f in &s.findings {
                    let what = if f.loses_events() { "lost" } else { "repaired" };
                    println!("{} {what}: {f}", s.id);
                }
                if let Some(e) = &s.error {
                    println!("{} still unreadable: {e}", s.id);
                }
            }
            if r.cache_entries > 0 {
                println!("put back {} cache entries from the journal", r.cache_entries);
            }
            let n = r.after.sessions.len();
            if r.after.is_healthy() {
                println!("store repaired: {n} sessions, every event in both copies");
                Ok(())
            } else {
                print_check(&r.after);
                Err(CliError::failed("the store is still damaged after repair (see above)"))
            }
        }
    }
}

fn print_check(c: &StoreCheck) {
    match &c.database_damage {
        None => println!("database  {}: opens", c.database.display()),
        Some(why) => println!("database  {}: DAMAGED, does not open ({why}); sessions are read from their journals", c.database.display()),
    }
    for s in &c.sessions {
        let state = if s.is_damaged() { "damaged" } else { "ok" };
        println!("{}  {state}, {} events", s.id, s.events);
        for f in &s.findings {
            println!("    {} {f}", if f.loses_events() { "✗" } else if f.is_damage() { "!" } else { "·" });
        }
        if let Some(e) = &s.error {
            println!("    ✗ {e}");
        }
    }
    if c.cache_missing > 0 {
        println!("cache     ! the database lacks {} of the journalled results (repair puts them back; until then they may be made again)", c.cache_missing);
    }
    let damaged = c.sessions.iter().filter(|s| s.is_damaged()).count();
    if c.is_healthy() {
        println!("healthy: {} sessions, every event in both copies", c.sessions.len());
    } else if damaged == 0 && c.database_damage.is_none() {
        println!("every session is whole; the cache index is behind its journal: run `admint store repair`");
    } else if c.loses_events() {
        println!("{damaged} of {} sessions damaged; some events are in neither copy (marked ✗): run `admint store repair` to go on from the last whole event", c.sessions.len());
    } else {
        println!("{damaged} of {} sessions damaged, nothing lost: run `admint store repair`", c.sessions.len());
    }
}

fn check_json(c: &StoreCheck) -> serde_json::Value {
    serde_json::json!({
        "database": c.database,
        "database_damage": c.database_damage,
        "healthy": c.is_healthy(),
        "loses_events": c.loses_events(),
        "cache_missing": c.cache_missing,
        "sessions": c.sessions.iter().map(|s| serde_json::json!({
            "id": s.id,
            "events": s.events,
            "damaged": s.is_damaged(),
            "findings": s.findings.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
            "error": s.error,
        })).collect::<Vec<_>>(),
    })
}
