//! What the country allowlist costs at run time: the memory libphonenumber's metadata holds once
//! decoded (resident set size before and after), the one-off decoding time, and the time of one
//! `country::check`. Linux only (reads /proc/self/statm).
//!
//! `cargo run --release --no-default-features --example country_cost`

use std::hint::black_box;
use std::time::Instant;

use connector_twilio_sms_native::{check_country, parse_allowed_countries};

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4 // 4 KiB pages
}

fn main() {
    // Real numbers of many countries, so that the regexes of each region get compiled, as in a
    // long-running tenant that texts the world.
    let numbers = [
        "+12024561111",
        "+16135802400",
        "+18769299200",
        "+12684620214",
        "+447700900123",
        "+33142682000",
        "+4930227320",
        "+390669881022",
        "+34915550000",
        "+81312345678",
        "+61291234567",
        "+5511912345678",
        "+919876543210",
        "+8613812345678",
        "+2348031234567",
        "+74957394400",
    ];
    let before = rss_kib();
    let t = Instant::now();
    let allowed = parse_allowed_countries(&["US", "CA", "GB", "DE", "FR"])
        .unwrap()
        .unwrap();
    let load = t.elapsed();
    let after_load = rss_kib();

    let t = Instant::now();
    for n in &numbers {
        let _ = black_box(check_country(n, &allowed));
    }
    let first_pass = t.elapsed();
    let after_first = rss_kib();

    let rounds = 2000;
    let t = Instant::now();
    for _ in 0..rounds {
        for n in &numbers {
            let _ = black_box(check_country(black_box(n), &allowed));
        }
    }
    let per_call = t.elapsed() / (rounds * numbers.len() as u32);
    let after_all = rss_kib();

    let t = Instant::now();
    for _ in 0..rounds {
        let _ = black_box(check_country(black_box("+18769299200"), &allowed));
    }
    let jm = t.elapsed() / rounds;

    println!("rss before metadata:            {before} KiB");
    println!(
        "metadata decode:                {load:?}, rss +{} KiB",
        after_load - before
    );
    println!(
        "first check of {} countries:    {first_pass:?}, rss +{} KiB (regexes compiled)",
        numbers.len(),
        after_first - after_load
    );
    println!(
        "steady state:                   {per_call:?} per check, rss +{} KiB after {} checks",
        after_all - after_first,
        rounds as usize * numbers.len()
    );
    println!("one +1 876 (Jamaica) check:     {jm:?}");
    println!("total rss held by the metadata: {} KiB", after_all - before);
}
