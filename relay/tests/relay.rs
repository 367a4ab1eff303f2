//! The relay over real sockets on 127.0.0.1, in this process: ticks end to end with two
//! accounts, offline delivery, isolation of queues, group fan-out, device lists and
//! certificates, bundle rate limits, TLS, and bad frames of every kind.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use bluetick::receipt::ReceiptKind;
use bluetick::relay_protocol::{
    AuthSigner, ClientConfig, ErrorCode, Event, Frame, MAX_FRAME_LEN, RELAY_PROTOCOL_VERSION,
};
use bluetick::{Address, DeviceCertificate, DeviceList, IdentityKeyPair, MessageStatus, Received};
use bluetick_relay::{Limits, RelayClient};
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test exceeded its time bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_end_to_end_pending_sent_delivered_read() {
    bounded(async {
        let relay = relay(Limits::default()).await;
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut ca = client(&relay.url, &a, &alice);
        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut ca).await, 0);
        assert_eq!(ready(&mut cb).await, 0);
        upload(&mut cb, &bob).await;

        let bundle = bundle(&mut ca, &b).await;
        let out = alice.encrypt(&b, b"hi Bob", Some(&bundle), 0).unwrap();
        assert_eq!(
            alice.message_status(&out.id).unwrap(),
            Some(MessageStatus::Pending)
        );
        let id = ca.send(vec![b.clone()], out.wire);
        assert_eq!(id, out.id, "the client and the account compute one id");
        sent(&mut ca, id).await;
        assert_eq!(alice.mark_sent(&id).unwrap(), MessageStatus::Sent);

        // Bob is online: the message is pushed at once.
        let (from, got_id, wire) = delivery(&mut cb).await;
        assert_eq!((&from, got_id), (&a, id));
        let inc = bob.decrypt(&from, &wire).unwrap();
        assert!(matches!(inc.received, Received::Message { ref body, .. } if body == b"hi Bob"));
        cb.committed(got_id);

        for (kind, status) in [
            (ReceiptKind::Delivered, MessageStatus::Delivered),
            (ReceiptKind::Read, MessageStatus::Read),
        ] {
            let receipt = bob.create_receipt(&a, kind, &[id], 1).unwrap();
            let rid = cb.send(vec![a.clone()], receipt.wire);
            sent(&mut cb, rid).await;
            let (from, rid2, wire) = delivery(&mut ca).await;
            assert_eq!(rid, rid2);
            alice.decrypt(&from, &wire).unwrap();
            ca.committed(rid2);
            assert_eq!(alice.message_status(&id).unwrap(), Some(status));
        }
        // Everything was acknowledged: a new pipe finds empty queues.
        drop(cb);
        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_device_gets_its_queue_in_order_when_back() {
    bounded(async {
        let relay = relay(Limits::default()).await;
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut cb = client(&relay.url, &b, &bob);
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        drop(cb); // Bob goes offline.

        let mut ca = client(&relay.url, &a, &alice);
        ready(&mut ca).await;
        let bundle = bundle(&mut ca, &b).await;
        let mut ids = Vec::new();
        for (i, text) in ["one", "two", "three"].iter().enumerate() {
            let out = alice
                .encrypt(&b, text.as_bytes(), (i == 0).then_some(&bundle), 0)
                .unwrap();
            let id = ca.send(vec![b.clone()], out.wire);
            sent(&mut ca, id).await;
            ids.push(id);
        }

        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 3);
        let mut bodies = Vec::new();
        for want in &ids {
            let (from, id, wire) = delivery(&mut cb).await;
            assert_eq!(&id, want, "delivered in the order sent");
            if let Received::Message { body, .. } = bob.decrypt(&from, &wire).unwrap().received {
                bodies.push(String::from_utf8(body).unwrap());
            }
            // Only the first is committed before the pipe breaks.
            if id == ids[0] {
                cb.committed(id);
            }
        }
        assert_eq!(bodies, ["one", "two", "three"]);
        // Wait until the relay has the acknowledgement, then break the pipe: the two
        // uncommitted messages come again, the committed one does not.
        wait_queued(&relay.db, &b, 2).await;
        drop(cb);
        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 2);
        for want in &ids[1..] {
            let (_, id, _) = delivery(&mut cb).await;
            assert_eq!(&id, want);
            cb.committed(id);
        }
        wait_queued(&relay.db, &b, 0).await;
        drop(cb);
        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_cannot_read_another_devices_queue_or_take_its_address() {
    bounded(async {
        let relay = relay(Limits::default()).await;
        let (alice, bob, mallory) = (account(), account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut cb = client(&relay.url, &b, &bob);
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        drop(cb);
        let mut ca = client(&relay.url, &a, &alice);
        ready(&mut ca).await;
        let out = alice
            .encrypt(&b, b"for Bob only", Some(&bundle(&mut ca, &b).await), 0)
            .unwrap();
        let id = ca.send(vec![b.clone()], out.wire);
        sent(&mut ca, id).await;

        // Mallory claims bob.1 with her own key: refused, nothing delivered.
        let mut cm = client(&relay.url, &b, &mallory);
        let code = wait_for(&mut cm, "refusal", |e| match e {
            Event::ConnectionFailed { code } => Some(*code),
            Event::Delivery { .. } => panic!("another device's queue was delivered"),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::AuthenticationFailed);
        drop(cm);

        // Mallory under her own address cannot upload prekeys carrying Bob's identity.
        let m = Address::new("mallory", 1);
        let mut cm = client(&relay.url, &m, &mallory);
        ready(&mut cm).await;
        let r = cm.upload_prekeys(bob.prekey_upload().unwrap().to_bytes());
        let code = wait_for(&mut cm, "upload refusal", |e| match e {
            Event::RequestFailed { request, code } if *request == r => Some(*code),
            Event::Done { request } if *request == r => panic!("upload under another identity"),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::InvalidUpload);

        // A replayed signature with Bob's key bytes but another nonce: refused (raw pipe).
        let mut ws = raw(&relay.url).await;
        let nonce = challenge(&mut ws).await;
        let forged = Frame::Authenticate {
            address: b.clone(),
            identity: bob.identity().to_bytes(),
            signature: mallory.sign_relay_auth(&nonce, &b),
            certificate: None,
        };
        assert_eq!(
            exchange(&mut ws, forged.encode()).await,
            ErrorCode::AuthenticationFailed
        );

        // Bob still gets his message.
        let mut cb = client(&relay.url, &b, &bob);
        assert_eq!(ready(&mut cb).await, 1);
        let (from, got, wire) = delivery(&mut cb).await;
        assert_eq!(got, id);
        bob.decrypt(&from, &wire).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_wire_is_fanned_out_once_per_device_and_acknowledged_once() {
    bounded(async {
        let relay = relay(Limits::default()).await;
        let members: Vec<_> = (1..=3).map(|d| (Address::new("m", d), account())).collect();
        let mut clients = Vec::new();
        for (addr, acc) in &members {
            let mut c = client(&relay.url, addr, acc);
            ready(&mut c).await;
            clients.push(c);
        }
        let wire = vec![0x13; 300]; // opaque to the relay
        let recipients = vec![members[1].0.clone(), members[2].0.clone()];
        let id = clients[0].send(recipients.clone(), wire.clone());
        sent(&mut clients[0], id).await;
        // Resent (a client after a reconnect): no second copy.
        let again = clients[0].send(recipients, wire.clone());
        assert_eq!(again, id);
        for c in &mut clients[1..] {
            let (from, got, w) = delivery(c).await;
            assert_eq!((from, got, w), (members[0].0.clone(), id, wire.clone()));
            c.committed(got);
        }
        // A send naming an unknown device stores nothing for anyone.
        let id2 = clients[0].send(
            vec![members[1].0.clone(), Address::new("nobody", 1)],
            vec![0x13, 1],
        );
        let code = wait_for(&mut clients[0], "refusal", |e| match e {
            Event::SendFailed { id, code } if *id == id2 => Some(*code),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::UnknownRecipient);
        wait_queued(&relay.db, &members[1].0, 0).await;
        wait_queued(&relay.db, &members[2].0, 0).await;
        clients.truncate(1);
        let mut c1 = client(&relay.url, &members[1].0, &members[1].1);
        assert_eq!(ready(&mut c1).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_lists_and_certificates_travel_with_bundles() {
    bounded(async {
        let relay = relay(Limits::default()).await;
        let (phone, bob) = (account(), account());
        let b = Address::new("bob", 1);
        // The primary device's identity key signs the list and certificates; the test
        // holds it as a plain key pair (an account keeps its key to itself).
        let user_key = IdentityKeyPair::generate(&mut bluetick::os_rng());
        let primary_addr = Address::new("carol", 1);
        let mut cp = RelayClient::spawn(
            relay.url.clone(),
            None,
            ClientConfig {
                address: primary_addr.clone(),
                certificate: None,
                backoff: fast_backoff(),
            },
            Arc::new(user_key.clone()) as Arc<dyn AuthSigner + Send + Sync>,
        );
        ready(&mut cp).await;
        let companion = Address::new("carol", 2);
        let v1 = DeviceList::sign(
            &user_key,
            b"carol",
            1,
            vec![(1, *user_key.public()), (2, *phone.identity())],
        )
        .unwrap();
        let publish = |c: &mut RelayClient, l: &DeviceList| c.publish_device_list(l.to_bytes());
        let r = publish(&mut cp, &v1);
        wait_for(&mut cp, "list stored", |e| match e {
            Event::Done { request } if *request == r => Some(()),
            Event::RequestFailed { request, code } if *request == r => panic!("{code}"),
            _ => None,
        })
        .await;
        // The same version again is stale; a list signed by another key is refused.
        for (list, want) in [
            (v1.clone(), ErrorCode::StaleDeviceList),
            (
                DeviceList::sign(&phone_key(), b"carol", 9, vec![(1, *phone_key().public())])
                    .unwrap(),
                ErrorCode::InvalidDeviceList,
            ),
        ] {
            let r = publish(&mut cp, &list);
            let code = wait_for(&mut cp, "list refusal", |e| match e {
                Event::RequestFailed { request, code } if *request == r => Some(*code),
                Event::Done { request } if *request == r => panic!("accepted"),
                _ => None,
            })
            .await;
            assert_eq!(code, want);
        }
        // The companion registers with its certificate and uploads prekeys.
        let cert = DeviceCertificate::sign(&user_key, b"carol", 2, phone.identity(), 5).unwrap();
        let mut cc = RelayClient::spawn(
            relay.url.clone(),
            None,
            ClientConfig {
                address: companion.clone(),
                certificate: Some(cert.to_bytes()),
                backoff: fast_backoff(),
            },
            Arc::clone(&phone) as Arc<dyn AuthSigner + Send + Sync>,
        );
        ready(&mut cc).await;
        upload(&mut cc, &phone).await;
        // Bob fetches the companion's bundle: certificate and list come with it.
        let mut cb = client(&relay.url, &b, &bob);
        ready(&mut cb).await;
        let r = cb.fetch_bundle(companion.clone());
        let (certificate, list) = wait_for(&mut cb, "Bundle", |e| match e {
            Event::Bundle {
                request,
                certificate,
                device_list,
                ..
            } if *request == r => Some((certificate.clone(), device_list.clone())),
            _ => None,
        })
        .await;
        let certificate = DeviceCertificate::from_bytes(&certificate.unwrap()).unwrap();
        certificate.verify(user_key.public()).unwrap();
        let list = DeviceList::from_bytes(&list.unwrap()).unwrap();
        list.verify(user_key.public()).unwrap();
        assert_eq!(list.device_key(2), Some(phone.identity()));
        let r = cb.fetch_devices(b"carol".to_vec());
        let devices = wait_for(&mut cb, "Devices", |e| match e {
            Event::Devices {
                request, devices, ..
            } if *request == r => Some(devices.clone()),
            _ => None,
        })
        .await;
        assert_eq!(devices, [1, 2]);
        // A device the list names cannot be bound to another key.
        let mut cx = client(&relay.url, &Address::new("carol", 2), &account());
        let code = wait_for(&mut cx, "refusal", |e| match e {
            Event::ConnectionFailed { code } => Some(*code),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::AuthenticationFailed);
    })
    .await;
}

fn phone_key() -> IdentityKeyPair {
    IdentityKeyPair::from_seed(bluetick::Secret32::from_slice(&[42; 32]).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_fetches_are_rate_limited_per_requester_and_one_time_keys_go_once() {
    bounded(async {
        let limits = Limits {
            bundle_burst: 3.0,
            bundles_per_second: 0.001,
            ..Limits::default()
        };
        let relay = relay(limits).await;
        let (bob, eve, alice) = (account(), account(), account());
        let b = Address::new("bob", 1);
        let mut cb = client(&relay.url, &b, &bob);
        ready(&mut cb).await;
        upload(&mut cb, &bob).await;
        let mut ce = client(&relay.url, &Address::new("eve", 1), &eve);
        ready(&mut ce).await;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 {
            let got = bundle(&mut ce, &b).await;
            let opk = got.one_time_prekey.expect("one-time key left").id;
            assert!(seen.insert(opk), "one-time prekey {opk} handed out twice");
        }
        let r = ce.fetch_bundle(b.clone());
        let code = wait_for(&mut ce, "rate limit", |e| match e {
            Event::RequestFailed { request, code } if *request == r => Some(*code),
            Event::Bundle { request, .. } if *request == r => panic!("not rate-limited"),
            _ => None,
        })
        .await;
        assert_eq!(code, ErrorCode::RateLimited);
        // Another requester still gets the remaining keys.
        let mut ca = client(&relay.url, &Address::new("alice", 1), &alice);
        ready(&mut ca).await;
        let got = bundle(&mut ca, &b).await;
        assert!(seen.insert(got.one_time_prekey.unwrap().id));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipes_run_over_tls_when_the_relay_has_a_certificate() {
    bounded(async {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let der = cert.cert.der().clone();
        let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let acceptor = bluetick_relay::tls::acceptor_from_der(vec![der.clone()], key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let backend = bluetick_relay::SqliteBackend::open(dir.path().join("r.db")).unwrap();
        let relay = bluetick_relay::Relay::new(
            Arc::new(backend),
            Limits::default(),
            bluetick_relay::Log::Off,
        );
        let (addr, task) =
            bluetick_relay::start("127.0.0.1:0".parse().unwrap(), relay, Some(acceptor))
                .await
                .unwrap();
        let connector = bluetick_relay::tls::connector(&[der]).unwrap();
        let acc = account();
        let mut c = RelayClient::spawn(
            format!("wss://localhost:{}", addr.port()),
            Some(connector),
            ClientConfig {
                address: Address::new("tls", 1),
                certificate: None,
                backoff: fast_backoff(),
            },
            acc.clone() as Arc<dyn AuthSigner + Send + Sync>,
        );
        assert_eq!(ready(&mut c).await, 0);
        upload(&mut c, &acc).await;
        // A plain WebSocket client gets nowhere.
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let plain = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::client_async(format!("ws://{addr}"), tcp),
        )
        .await
        .unwrap();
        assert!(plain.is_err());
        task.abort();
    })
    .await;
}

// Raw pipes for bad input.

type RawWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn raw(url: &str) -> RawWs {
    let addr = url.trim_start_matches("ws://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let config = bluetick_relay::server::ws_config().max_message_size(Some(4 * MAX_FRAME_LEN));
    tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .unwrap()
        .0
}

async fn next_frame(ws: &mut RawWs) -> Option<Frame> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("relay silent")
        {
            Some(Ok(Message::Binary(b))) => return Some(Frame::decode(&b).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn challenge(ws: &mut RawWs) -> [u8; 32] {
    match next_frame(ws).await {
        Some(Frame::Challenge { version, nonce }) => {
            assert_eq!(version, RELAY_PROTOCOL_VERSION);
            nonce
        }
        other => panic!("expected a challenge, got {other:?}"),
    }
}

/// Sends one message and returns the fatal error code the relay answers with, checking
/// that the relay then closes the pipe.
async fn exchange_msg(ws: &mut RawWs, msg: Message) -> ErrorCode {
    let _ = ws.send(msg).await;
    let code = loop {
        match next_frame(ws).await {
            Some(Frame::Error { code, reference }) => {
                assert!(reference.is_empty());
                break code;
            }
            Some(_) => continue,
            None => panic!("closed without an error frame"),
        }
    };
    assert!(code.is_fatal());
    assert!(
        next_frame(ws).await.is_none(),
        "pipe left open after {code}"
    );
    code
}

async fn exchange(ws: &mut RawWs, bytes: Vec<u8>) -> ErrorCode {
    exchange_msg(ws, Message::binary(bytes)).await
}

/// A raw pipe authenticated as `address` with a fresh key.
async fn authenticated(url: &str, address: &Address) -> RawWs {
    let key = IdentityKeyPair::generate(&mut bluetick::os_rng());
    let mut ws = raw(url).await;
    let nonce = challenge(&mut ws).await;
    let auth = Frame::Authenticate {
        address: address.clone(),
        identity: key.public().to_bytes(),
        signature: key.sign_relay_auth(&nonce, address),
        certificate: None,
    };
    ws.send(Message::binary(auth.encode())).await.unwrap();
    match next_frame(&mut ws).await {
        Some(Frame::Welcome { .. }) => ws,
        other => panic!("expected Welcome, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_of_every_kind_get_an_error_and_the_relay_serves_on() {
    bounded(async {
        let limits = Limits {
            auth_timeout: Duration::from_millis(500),
            frame_burst: 50.0,
            frames_per_second: 10.0,
            ..Limits::default()
        };
        let relay = relay(limits).await;
        let url = relay.url.clone();
        // A good pair of devices stays connected throughout.
        let (alice, bob) = (account(), account());
        let (a, b) = (Address::new("alice", 1), Address::new("bob", 1));
        let mut ca = client(&url, &a, &alice);
        let mut cb = client(&url, &b, &bob);
        ready(&mut ca).await;
        ready(&mut cb).await;

        // Before authentication.
        let cases: Vec<(&str, Message, ErrorCode)> = vec![
            (
                "garbage",
                Message::binary(vec![0xFF, 1, 2]),
                ErrorCode::Malformed,
            ),
            ("empty", Message::binary(Vec::new()), ErrorCode::Malformed),
            ("text", Message::text("hello"), ErrorCode::Malformed),
            (
                "truncated authentication",
                Message::binary(vec![0x02, 0x03, 0x05, b'a']),
                ErrorCode::Malformed,
            ),
            (
                "request before authentication",
                Message::binary(
                    Frame::FetchDevices {
                        request: 1,
                        user: b"bob".to_vec(),
                    }
                    .encode(),
                ),
                ErrorCode::Unauthenticated,
            ),
            (
                "oversize",
                Message::binary(vec![0x0B; MAX_FRAME_LEN + 1]),
                ErrorCode::Oversize,
            ),
            (
                "far oversize",
                Message::binary(vec![0x0B; 2 * MAX_FRAME_LEN]),
                ErrorCode::Oversize,
            ),
            (
                "invalid identity key",
                Message::binary(
                    Frame::Authenticate {
                        address: Address::new("x", 1),
                        identity: [0; 32],
                        signature: [0; 64],
                        certificate: None,
                    }
                    .encode(),
                ),
                ErrorCode::AuthenticationFailed,
            ),
        ];
        for (what, msg, want) in cases {
            let mut ws = raw(&url).await;
            challenge(&mut ws).await;
            assert_eq!(exchange_msg(&mut ws, msg).await, want, "{what}");
        }
        // Silence until the authentication timeout.
        let mut ws = raw(&url).await;
        challenge(&mut ws).await;
        let code = match next_frame(&mut ws).await {
            Some(Frame::Error { code, .. }) => code,
            other => panic!("expected a timeout error, got {other:?}"),
        };
        assert_eq!(code, ErrorCode::Unauthenticated);

        // After authentication: frames only a relay sends, a second authentication,
        // malformed bytes, and a flood.
        let relay_frames = [
            Frame::Challenge {
                version: 1,
                nonce: [0; 32],
            },
            Frame::Welcome { queued: 0 },
            Frame::Sent {
                id: bluetick::MessageId([0; 16]),
            },
            Frame::Deliver {
                sender: a.clone(),
                wire: vec![1],
            },
            Frame::Done { request: 1 },
        ];
        for (device, f) in (10..).zip(relay_frames) {
            let mut ws = authenticated(&url, &Address::new("mallory", device)).await;
            assert_eq!(
                exchange(&mut ws, f.encode()).await,
                ErrorCode::UnexpectedFrame
            );
        }
        let again = Frame::Authenticate {
            address: Address::new("mallory", 2),
            identity: [1; 32],
            signature: [0; 64],
            certificate: None,
        };
        // (each raw pipe binds a fresh key, so each takes an address of its own.)
        let mut ws = authenticated(&url, &Address::new("mallory", 2)).await;
        assert_eq!(
            exchange(&mut ws, again.encode()).await,
            ErrorCode::UnexpectedFrame
        );
        let mut ws = authenticated(&url, &Address::new("mallory", 3)).await;
        assert_eq!(
            exchange(&mut ws, vec![0x0B, 0x0E, 0, 0]).await,
            ErrorCode::Malformed
        );
        let mut ws = authenticated(&url, &Address::new("mallory", 4)).await;
        let flood = Frame::FetchDevices {
            request: 1,
            user: b"bob".to_vec(),
        }
        .encode();
        for _ in 0..200 {
            if ws.send(Message::binary(flood.clone())).await.is_err() {
                break;
            }
        }
        let code = loop {
            match next_frame(&mut ws).await {
                Some(Frame::Error { code, reference }) if reference.is_empty() => break code,
                Some(_) => continue,
                None => panic!("closed without an error frame"),
            }
        };
        assert_eq!(code, ErrorCode::Flood);

        // The good devices were served all along.
        let bundle_err = ca.fetch_bundle(b.clone());
        wait_for(&mut ca, "answer", |e| match e {
            Event::RequestFailed { request, code } if *request == bundle_err => {
                assert_eq!(*code, ErrorCode::NoBundle);
                Some(())
            }
            _ => None,
        })
        .await;
        let id = ca.send(vec![b.clone()], vec![0x11, 0x22]);
        sent(&mut ca, id).await;
        let (_, got, _) = delivery(&mut cb).await;
        assert_eq!(got, id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledgements_of_pushed_deliveries_cost_no_frame_budget_but_others_do() {
    bounded(async {
        let limits = Limits {
            frame_burst: 20.0,
            frames_per_second: 0.5,
            ..Limits::default()
        };
        let relay = relay(limits).await;
        let url = relay.url.clone();
        let b = Address::new("bob", 1);
        // Bob binds his address, then is away while five senders queue 50 messages.
        let bob_key = IdentityKeyPair::generate(&mut bluetick::os_rng());
        let pipe_as_bob = |url: String, key: IdentityKeyPair| async move {
            let mut ws = raw(&url).await;
            let nonce = challenge(&mut ws).await;
            let auth = Frame::Authenticate {
                address: Address::new("bob", 1),
                identity: key.public().to_bytes(),
                signature: key.sign_relay_auth(&nonce, &Address::new("bob", 1)),
                certificate: None,
            };
            ws.send(Message::binary(auth.encode())).await.unwrap();
            let queued = match next_frame(&mut ws).await {
                Some(Frame::Welcome { queued }) => queued,
                other => panic!("expected Welcome, got {other:?}"),
            };
            (ws, queued)
        };
        drop(pipe_as_bob(url.clone(), bob_key.clone()).await);
        for s in 0..5 {
            let acc = account();
            let mut c = client(&url, &Address::new(format!("s{s}"), 1), &acc);
            ready(&mut c).await;
            for i in 0..10u8 {
                let id = c.send(vec![b.clone()], vec![0x11, s, i]);
                sent(&mut c, id).await;
            }
        }
        let (mut ws, queued) = pipe_as_bob(url.clone(), bob_key.clone()).await;
        assert_eq!(queued, 50);
        // Fifty acknowledgements, one per frame: more frames than the budget allows, and
        // all accepted since each answers a delivery.
        for _ in 0..50 {
            let Some(Frame::Deliver { wire, .. }) = next_frame(&mut ws).await else {
                panic!("expected a delivery")
            };
            let ack = Frame::Ack {
                ids: vec![bluetick::MessageId::of(&wire)],
            };
            ws.send(Message::binary(ack.encode())).await.unwrap();
        }
        wait_queued(&relay.db, &b, 0).await;
        let (mut ws2, queued) = pipe_as_bob(url.clone(), bob_key.clone()).await;
        assert_eq!(queued, 0, "every acknowledgement was taken");
        drop(ws);
        // Acknowledgements of nothing pushed draw on the budget: a flood of them is cut off.
        let bogus = Frame::Ack {
            ids: vec![bluetick::MessageId([9; 16])],
        }
        .encode();
        for _ in 0..40 {
            if ws2.send(Message::binary(bogus.clone())).await.is_err() {
                break;
            }
        }
        match next_frame(&mut ws2).await {
            Some(Frame::Error { code, .. }) => assert_eq!(code, ErrorCode::Flood),
            other => panic!("expected Flood, got {other:?}"),
        }
    })
    .await;
}
