//! Keys and signatures, without a database.

use std::path::PathBuf;

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("traguardi_{name}_{}_{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const HASH: &str = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";

#[test]
fn a_signed_checkpoint_verifies_under_its_key_and_no_other() {
    let key = AuditKey::generate();
    let c = key.sign(42, HASH, "2026-12-02T18:00:00Z".into());
    assert_eq!(c.public_key, key.public().hex());
    assert_eq!((c.public_key.len(), c.signature.len()), (64, 128));
    assert!(key.public().verifies(&c));
    let trusted = Trust { keys: vec![key.public()] };
    assert_eq!(trusted.check(&c), Ok(()));
    // No key given: checked against the stored key.
    assert_eq!(Trust::default().check(&c), Ok(()));

    // Another key does not verify it, and a checkpoint signed with another key (and carrying
    // that key) is refused when only the first is trusted.
    let other = AuditKey::generate();
    assert!(!other.public().verifies(&c));
    let forged = other.sign(42, HASH, "2026-12-02T18:00:00Z".into());
    assert!(!key.public().verifies(&forged));
    let refused = trusted.check(&forged).unwrap_err();
    assert!(refused.contains("not a trusted one"), "{refused}");
    // Swapping in the trusted key's hex does not help: the signature is the other key's.
    let swapped = Checkpoint { public_key: key.public().hex(), ..forged };
    assert!(trusted.check(&swapped).unwrap_err().contains("does not verify"));
}

#[test]
fn a_tampered_checkpoint_is_found() {
    let key = AuditKey::generate();
    let trusted = Trust { keys: vec![key.public()] };
    let c = key.sign(42, HASH, "2026-12-02T18:00:00Z".into());
    let mut flipped = c.signature.clone().into_bytes();
    flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
    let edits = [
        Checkpoint { signature: String::from_utf8(flipped).unwrap(), ..c.clone() },
        Checkpoint { seq: 43, ..c.clone() },
        Checkpoint { hash: HASH.replace('6', "7"), ..c.clone() },
        Checkpoint { at: "2026-12-02T18:00:01Z".into(), ..c.clone() },
        Checkpoint { signature: "zz".into(), ..c.clone() },
    ];
    for edited in edits {
        assert!(!key.public().verifies(&edited), "{edited:?}");
        assert!(trusted.check(&edited).is_err(), "{edited:?}");
        // The stored key alone finds it as well.
        assert!(Trust::default().check(&edited).is_err(), "{edited:?}");
    }
    let garbled = Checkpoint { public_key: "not a key".into(), ..c };
    assert!(Trust::default().check(&garbled).unwrap_err().contains("no valid public key"));
}

#[test]
fn keygen_writes_a_private_file_and_refuses_to_overwrite() {
    let dir = temp_dir("keygen");
    let path = dir.join("audit.key");
    let public = keygen(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key = AuditKey::load(&path).unwrap();
    assert_eq!(key.public(), public);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
    // FILE.pub is the public key, and loads as such.
    assert_eq!(PublicKey::load(&public_path(&path)).unwrap(), public);

    // A second keygen over either file fails and leaves the files as they were.
    let err = keygen(&path).unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let other = dir.join("other.key");
    std::fs::write(public_path(&other), "kept").unwrap();
    assert!(keygen(&other).is_err());
    assert!(!other.exists(), "no private key without its public file");
    assert_eq!(std::fs::read_to_string(public_path(&other)).unwrap(), "kept");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_unusable_key_file_stops_the_start() {
    let dir = temp_dir("badkey");
    let args = |path: PathBuf| AuditArgs { audit_key: Some(path), audit_checkpoint_minutes: 15 };
    let missing = args(dir.join("missing.key")).load().unwrap_err().to_string();
    assert!(missing.contains("cannot read the audit key file"), "{missing}");
    let garbage = dir.join("garbage.key");
    std::fs::write(&garbage, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let malformed = args(garbage).load().unwrap_err().to_string();
    assert!(malformed.contains("not an Ed25519 private key"), "{malformed}");
    // The public file is not a private key either.
    let path = dir.join("audit.key");
    keygen(&path).unwrap();
    assert!(args(public_path(&path)).load().is_err());
    assert!(args(path).load().unwrap().is_some());
    assert!(AuditArgs { audit_key: None, audit_checkpoint_minutes: 15 }.load().unwrap().is_none());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_public_key_loads_from_hex_too() {
    let dir = temp_dir("pubhex");
    let key = AuditKey::generate();
    let path = dir.join("key.hex");
    std::fs::write(&path, format!("{}\n", key.public().hex())).unwrap();
    assert_eq!(PublicKey::load(&path).unwrap(), key.public());
    std::fs::write(&path, "abc").unwrap();
    assert!(PublicKey::load(&path).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_signed_message_names_its_purpose_and_every_field() {
    let m = String::from_utf8(signed_message(7, HASH, "2026-12-02T18:00:00Z")).unwrap();
    assert_eq!(
        m,
        format!(
            r#"{{"purpose":"traguardi audit checkpoint v1","seq":7,"hash":"{HASH}","at":"2026-12-02T18:00:00Z"}}"#
        )
    );
}

#[test]
fn the_commands_parse_as_documented() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        audit: cli::AuditCommand,
        #[command(flatten)]
        args: AuditArgs,
    }
    Cli::command().debug_assert();
    let parsed = Cli::try_parse_from([
        "audit",
        "verify",
        "--public-key",
        "a.pub",
        "--public-key",
        "b.pub",
        "--checkpoints",
        "export.jsonl",
    ])
    .unwrap();
    match parsed.audit {
        cli::AuditCommand::Verify { public_keys, checkpoints, .. } => {
            assert_eq!(public_keys, [PathBuf::from("a.pub"), PathBuf::from("b.pub")]);
            assert_eq!(checkpoints, Some(PathBuf::from("export.jsonl")));
        }
        _ => panic!("verify"),
    }
    assert!(matches!(
        Cli::try_parse_from(["audit", "checkpoints", "--export", "x.jsonl"]).unwrap().audit,
        cli::AuditCommand::Checkpoints { export: Some(_) }
    ));
    assert!(matches!(
        Cli::try_parse_from(["audit", "keygen", "k"]).unwrap().audit,
        cli::AuditCommand::Keygen { .. }
    ));
    // A checkpoint every 0 minutes is refused.
    assert!(Cli::try_parse_from(["audit", "--audit-checkpoint-minutes", "0", "keygen", "k"]).is_err());
}
