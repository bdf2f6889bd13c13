//! Ansible Vault: the `$ANSIBLE_VAULT;1.1;AES256` and `1.2` (with a vault id) envelopes,
//! decrypted and encrypted as ansible-core's `parsing/vault` does (PBKDF2-HMAC-SHA256 with
//! 10000 rounds giving an AES-256 key, an HMAC-SHA256 key and a CTR counter; PKCS#7
//! padding; the HMAC over the ciphertext checked before decrypting), and the run's vault
//! secrets (`--vault-password-file`, `--vault-id`).

use std::sync::RwLock;

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// The header every vaulted text starts with.
pub const HEADER: &str = "$ANSIBLE_VAULT";

/// One vault secret: its vault id (`default` when none was given) and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub vault_id: String,
    pub password: Vec<u8>,
}

/// The run's secrets, in the order the command line gave them (process-wide, as the
/// loader, the lookups and the filters all decrypt).
static SECRETS: RwLock<Vec<Secret>> = RwLock::new(Vec::new());

/// Sets the run's vault secrets.
pub fn set_secrets(secrets: Vec<Secret>) {
    *SECRETS.write().unwrap_or_else(|e| e.into_inner()) = secrets;
}

/// The run's vault secrets.
pub fn secrets() -> Vec<Secret> {
    SECRETS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether `text` is a vault envelope (`is_encrypted`: it starts with the header).
pub fn is_encrypted(text: &[u8]) -> bool {
    text.starts_with(HEADER.as_bytes())
}

/// Reads a password file as `FileVaultSecret` does: its text with surrounding whitespace
/// stripped. An executable file is a script Ansible would run for the password; fleetsim
/// runs nothing on the real machine, so that is an error.
pub fn read_password_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "The vault password file {} was not found: {e}",
            path.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 != 0 {
            return Err(format!(
                "fleetsim does not run vault password scripts: {} is executable",
                path.display()
            ));
        }
    }
    let data = std::fs::read(path)
        .map_err(|e| format!("Could not read vault password file {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&data);
    let password = text.trim().as_bytes().to_vec();
    if password.is_empty() {
        return Err(format!(
            "Invalid vault password was provided from file ({})",
            path.display()
        ));
    }
    Ok(password)
}

/// Parses a `--vault-id` value (`[LABEL@]FILE`) into its label and file.
pub fn split_vault_id(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((label, file)) => (label.to_string(), file.to_string()),
        None => ("default".to_string(), spec.to_string()),
    }
}

/// The envelope's parts: version, cipher, vault id (1.2) and the decoded payload.
struct Envelope {
    vault_id: Option<String>,
    salt: Vec<u8>,
    hmac: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn unhexlify(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn hexlify(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse(text: &[u8]) -> Result<Envelope, String> {
    let text = String::from_utf8_lossy(text);
    let mut lines = text.trim().lines();
    let header = lines.next().unwrap_or_default().trim();
    let fields: Vec<&str> = header.split(';').collect();
    if fields.first() != Some(&HEADER) || fields.len() < 3 {
        return Err("input is not vault encrypted data".into());
    }
    if fields[2].trim() != "AES256" {
        return Err(format!(
            "Vault cipher {} is not supported (only AES256)",
            fields[2].trim()
        ));
    }
    let vault_id = (fields[1] == "1.2")
        .then(|| fields.get(3).map(|s| s.trim().to_string()))
        .flatten();
    let body: String = lines.map(str::trim).collect();
    let invalid = || "Vault format unhexlify error: Odd-length string".to_string();
    let payload = unhexlify(body.as_bytes()).ok_or_else(invalid)?;
    let parts: Vec<&[u8]> = payload.split(|b| *b == b'\n').collect();
    if parts.len() != 3 {
        return Err("Vault format unhexlify error: the payload has not three parts".into());
    }
    Ok(Envelope {
        vault_id,
        salt: unhexlify(parts[0]).ok_or_else(invalid)?,
        hmac: unhexlify(parts[1]).ok_or_else(invalid)?,
        ciphertext: unhexlify(parts[2]).ok_or_else(invalid)?,
    })
}

/// The AES key, HMAC key and counter for a password and salt.
fn derive(password: &[u8], salt: &[u8]) -> ([u8; 32], [u8; 32], [u8; 16]) {
    let mut derived = [0u8; 80];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, 10_000, &mut derived);
    let mut key = [0u8; 32];
    let mut mac_key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&derived[..32]);
    mac_key.copy_from_slice(&derived[32..64]);
    iv.copy_from_slice(&derived[64..]);
    (key, mac_key, iv)
}

fn decrypt_with(env: &Envelope, password: &[u8]) -> Option<Vec<u8>> {
    let (key, mac_key, iv) = derive(password, &env.salt);
    // HMAC keys of any length are accepted: this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(&mac_key).ok()?;
    mac.update(&env.ciphertext);
    mac.verify_slice(&env.hmac).ok()?;
    let mut data = env.ciphertext.clone();
    Aes256Ctr::new(&key.into(), &iv.into()).apply_keystream(&mut data);
    // PKCS#7 padding to 16 bytes.
    let pad = *data.last()? as usize;
    if pad == 0 || pad > 16 || pad > data.len() {
        return None;
    }
    data.truncate(data.len() - pad);
    Some(data)
}

/// Decrypts a vault envelope with `secrets` (those whose vault id matches a 1.2 envelope's
/// first, then the others), with ansible-core's messages when it cannot.
pub fn decrypt(text: &[u8], secrets: &[Secret]) -> Result<Vec<u8>, String> {
    if secrets.is_empty() {
        return Err("Attempting to decrypt but no vault secrets found".into());
    }
    let env = parse(text)?;
    let matching = secrets
        .iter()
        .filter(|s| env.vault_id.as_deref() == Some(s.vault_id.as_str()));
    let others = secrets
        .iter()
        .filter(|s| env.vault_id.as_deref() != Some(s.vault_id.as_str()));
    for s in matching.chain(others) {
        if let Some(plain) = decrypt_with(&env, &s.password) {
            return Ok(plain);
        }
    }
    Err("Decryption failed (no vault secrets were found that could decrypt)".into())
}

/// Decrypts with the run's secrets.
pub fn decrypt_run(text: &[u8]) -> Result<Vec<u8>, String> {
    decrypt(text, &secrets())
}

/// Encrypts `plaintext` as `VaultLib.encrypt` does: a 1.2 envelope naming `vault_id` unless
/// it is `default` (then 1.1), the payload hexlified in lines of 80.
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: &[u8], vault_id: Option<&str>) -> String {
    let (key, mac_key, iv) = derive(password, salt);
    let pad = 16 - plaintext.len() % 16;
    let mut data = plaintext.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    Aes256Ctr::new(&key.into(), &iv.into()).apply_keystream(&mut data);
    let tag = match <HmacSha256 as Mac>::new_from_slice(&mac_key) {
        Ok(mut mac) => {
            mac.update(&data);
            hexlify(&mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length.
        Err(_) => unreachable!("HMAC-SHA256 takes a key of any length"),
    };
    let payload = format!("{}\n{tag}\n{}", hexlify(salt), hexlify(&data));
    let body = hexlify(payload.as_bytes());
    let header = match vault_id.filter(|id| *id != "default") {
        Some(id) => format!("{HEADER};1.2;AES256;{id}"),
        None => format!("{HEADER};1.1;AES256"),
    };
    let mut out = header;
    for chunk in body.as_bytes().chunks(80) {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(pw: &str) -> Vec<Secret> {
        vec![Secret {
            vault_id: "default".into(),
            password: pw.as_bytes().to_vec(),
        }]
    }

    /// Made by ansible-vault 2.19 (`ansible-vault encrypt_string --vault-password-file`
    /// with the password `test`): `foo: bar\n`.
    const FOO_BAR: &str = "$ANSIBLE_VAULT;1.1;AES256
38326337636662326662373334353437616162373133613632363662616364336561396265396631
3731646131343438643739396232316537313039303438390a366238323535383431306331393832
30396165366464616432666262306461613539643430333432663538353065363939313932373538
3637633838626161330a316165333032646639396639653230333534393362393730623962306532
3430
";

    /// `ansible-vault encrypt --vault-id dev@FILE` of the same text and password.
    const FOO_BAR_DEV: &str = "$ANSIBLE_VAULT;1.2;AES256;dev
39653431353233646166306133326535616639376566656261303139386633616364366437316361
6164623965306334383936613264323730616139383630650a663666303939373765636262323562
35363930646464366539636338616365303338363433626433313435396131663166386463396661
3662323236376132610a383134316431643734326433343338353737656233323366643233363038
3135
";

    #[test]
    fn decrypts_ansible_vault_1_1() {
        assert_eq!(
            decrypt(FOO_BAR.as_bytes(), &secret("test")).unwrap(),
            b"foo: bar\n"
        );
        assert_eq!(
            decrypt(FOO_BAR.as_bytes(), &secret("wrong")).unwrap_err(),
            "Decryption failed (no vault secrets were found that could decrypt)"
        );
        assert_eq!(
            decrypt(FOO_BAR_DEV.as_bytes(), &secret("test")).unwrap(),
            b"foo: bar\n"
        );
        assert_eq!(
            decrypt(FOO_BAR.as_bytes(), &[]).unwrap_err(),
            "Attempting to decrypt but no vault secrets found"
        );
    }

    #[test]
    fn encrypts_what_it_decrypts_with_a_vault_id() {
        let text = encrypt(b"secret value", b"pw", b"some salt", Some("dev"));
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;dev\n"));
        assert!(text.lines().skip(1).all(|l| l.len() <= 80));
        let plain = decrypt(
            text.as_bytes(),
            &[Secret {
                vault_id: "dev".into(),
                password: b"pw".to_vec(),
            }],
        )
        .unwrap();
        assert_eq!(plain, b"secret value");
        // The same salt gives the same envelope (the filters' `salt=`).
        assert_eq!(
            text,
            encrypt(b"secret value", b"pw", b"some salt", Some("dev"))
        );
        assert!(encrypt(b"x", b"pw", b"s", None).starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    }
}
