//! The sealed store records: bound to their table and key, authenticated, and useless under
//! another storage key.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use bluetick::store::{open_record, seal_record, Table};
use bluetick::{ErrorKind, Secret32};

fn key(b: u8) -> Secret32 {
    Secret32::from_slice(&[b; 32]).unwrap()
}

#[test]
fn a_sealed_record_opens_only_in_its_place_under_its_key() {
    let mut rng = bluetick::os_rng();
    let (row, sealed) = seal_record(
        &key(1),
        Table::Sessions,
        b"bob.1",
        b"secret state",
        &mut rng,
    )
    .unwrap();
    let (k, v) = open_record(&key(1), Table::Sessions, &row, &sealed).unwrap();
    assert_eq!(
        (k.as_slice(), v.as_slice()),
        (&b"bob.1"[..], &b"secret state"[..])
    );
    assert!(
        !sealed.windows(12).any(|w| w == b"secret state"),
        "value stored in the clear"
    );
    assert!(
        !row.windows(5).any(|w| w == b"bob.1"),
        "key stored in the clear"
    );

    let corrupt =
        |r: Result<_, bluetick::StoreError>| r.unwrap_err().kind() == ErrorKind::StoreCorrupt;
    assert!(
        corrupt(open_record(&key(2), Table::Sessions, &row, &sealed)),
        "another storage key"
    );
    assert!(
        corrupt(open_record(&key(1), Table::Inbox, &row, &sealed)),
        "moved to another table"
    );
    let (other_row, _) = seal_record(&key(1), Table::Sessions, b"carol.1", b"x", &mut rng).unwrap();
    assert!(
        corrupt(open_record(&key(1), Table::Sessions, &other_row, &sealed)),
        "moved to another key"
    );
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 1;
        assert!(
            corrupt(open_record(&key(1), Table::Sessions, &row, &t)),
            "byte {i} flipped"
        );
    }
    assert!(corrupt(open_record(
        &key(1),
        Table::Sessions,
        &row,
        &sealed[..11]
    )));
    // Every write uses a fresh nonce.
    let (_, again) = seal_record(
        &key(1),
        Table::Sessions,
        b"bob.1",
        b"secret state",
        &mut rng,
    )
    .unwrap();
    assert_ne!(again[..12], sealed[..12]);
}
