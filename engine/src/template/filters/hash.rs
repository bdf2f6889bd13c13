//! Hashing and base64 filters (`hash`, `md5`, `sha1`, `checksum`, `password_hash`, `b64encode`,
//! `b64decode`). The digests are RustCrypto's (the same crates the modules' checksums use).

use minijinja::value::Value;
use minijinja::Environment;

use super::{add, defined, plugin_err};
use crate::template::pyrepr::py_str;

fn md5(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(data).into()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex MD5 of text.
pub(crate) fn md5_hex(s: &str) -> String {
    md5_bytes_hex(s.as_bytes())
}

/// Hex MD5 of bytes (the `md5sum` of copy results).
pub(crate) fn md5_bytes_hex(data: &[u8]) -> String {
    hex(&md5(data))
}

/// Hex SHA-1 of text (Ansible's `checksum`).
pub(crate) fn sha1_hex(s: &str) -> String {
    hex(&sha1(s.as_bytes()))
}

/// Hex SHA-256 of text.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex(&sha256(s.as_bytes()))
}

/// A 64-bit seed from any text (for `random(seed=...)`).
pub(crate) fn seed_of(s: &str) -> u64 {
    let d = sha256(s.as_bytes());
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The one base64 codec lives in the sim crate (curl's credentials use it too).
pub(crate) use fleetsim_sim::base64::{decode as b64decode, encode as b64encode};

fn digest(name: &str, s: &str) -> Option<String> {
    Some(match name {
        "md5" => md5_hex(s),
        "sha1" => sha1_hex(s),
        "sha256" => sha256_hex(s),
        "sha224" => {
            use sha2::Digest;
            hex(&sha2::Sha224::digest(s.as_bytes()))
        }
        "sha384" => {
            use sha2::Digest;
            hex(&sha2::Sha384::digest(s.as_bytes()))
        }
        "sha512" => {
            use sha2::Digest;
            hex(&sha2::Sha512::digest(s.as_bytes()))
        }
        _ => return None,
    })
}

/// Text as bytes in one of the encodings playbooks use with `b64encode`.
fn encode(s: &str, encoding: &str) -> Option<Vec<u8>> {
    let utf16 = |big: bool| -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| {
                if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    };
    Some(match encoding.to_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => s.as_bytes().to_vec(),
        "utf-16-le" | "utf-16le" => utf16(false),
        "utf-16-be" | "utf-16be" => utf16(true),
        "utf-16" | "utf16" => [0xff, 0xfe].into_iter().chain(utf16(false)).collect(),
        "latin-1" | "latin1" | "iso-8859-1" | "ascii" => {
            let limit = if encoding.eq_ignore_ascii_case("ascii") {
                0x80
            } else {
                0x100
            };
            s.chars()
                .map(|c| u8::try_from(c as u32).ok().filter(|b| (*b as u32) < limit))
                .collect::<Option<Vec<u8>>>()?
        }
        _ => return None,
    })
}

/// Ansible's namespace for `to_uuid` (`UUID_NAMESPACE_ANSIBLE`).
const UUID_NAMESPACE_ANSIBLE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

/// Python's `uuid.UUID(text)` parsing: optional `urn:uuid:` and braces, hyphens anywhere,
/// 32 hex digits.
fn parse_uuid(text: &str) -> Result<[u8; 16], String> {
    let hex = text.replace("urn:", "").replace("uuid:", "");
    let hex = hex.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    if hex.chars().count() != 32 {
        return Err("badly formed hexadecimal UUID string".into());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("invalid literal for int() with base 16: '{hex}'"))?;
    }
    Ok(out)
}

/// Python's `uuid.uuid5(namespace, name)` as text.
pub(crate) fn uuid5(namespace: &[u8; 16], name: &str) -> String {
    let mut data = namespace.to_vec();
    data.extend_from_slice(name.as_bytes());
    let d = sha1(&data);
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["to_uuid"], |a, v| {
        defined(&v)?;
        let ns_text = a
            .str(0, "namespace")
            .unwrap_or_else(|| UUID_NAMESPACE_ANSIBLE.to_string());
        let ns = parse_uuid(&ns_text).map_err(|e| {
            plugin_err(
                "to_uuid",
                format!("Invalid value '{ns_text}' for 'namespace': {e}"),
            )
        })?;
        Ok(Value::from(uuid5(&ns, &py_str(&v))))
    });
    add(env, &["hash"], |a, v| {
        defined(&v)?;
        let algo = a.str(0, "hashtype").unwrap_or_else(|| "sha1".into());
        digest(&algo, &py_str(&v))
            .map(Value::from)
            .ok_or_else(|| plugin_err("hash", format!("unsupported hash type {algo}")))
    });
    add(env, &["md5"], |_, v| Ok(Value::from(md5_hex(&py_str(&v)))));
    add(env, &["sha1", "checksum"], |_, v| {
        Ok(Value::from(sha1_hex(&py_str(&v))))
    });
    add(env, &["b64encode"], |a, v| {
        defined(&v)?;
        let encoding = a.str(0, "encoding").unwrap_or_else(|| "utf-8".into());
        let bytes = encode(&py_str(&v), &encoding)
            .ok_or_else(|| plugin_err("b64encode", format!("unknown encoding: {encoding}")))?;
        let out = b64encode(&bytes);
        Ok(Value::from(if a.bool(1, "urlsafe", false) {
            out.replace('+', "-").replace('/', "_")
        } else {
            out
        }))
    });
    add(env, &["b64decode"], |_, v| {
        defined(&v)?;
        let bytes =
            b64decode(&py_str(&v)).ok_or_else(|| plugin_err("b64decode", "Incorrect padding"))?;
        // `to_text(..., errors='surrogate_or_strict')`: bytes that are not UTF-8 stay
        // (as lone surrogates), which the display later shows as `?`.
        Ok(Value::from(crate::surrogate::decode_surrogateescape(
            &bytes,
        )))
    });
    // Jinja's `safe` as Ansible's templates see it: the value as text (autoescaping is off,
    // so marking it safe changes nothing else).
    add(env, &["safe"], |_, v| Ok(Value::from(py_str(&v))));
    // Ansible Vault's filters (`plugins/filter/encryption.py`), with real AES256.
    add(env, &["vault"], |a, v| {
        defined(&v)?;
        let secret = a.get(0, "secret").cloned().unwrap_or(Value::UNDEFINED);
        if secret.as_str().is_none() {
            return Err(plugin_err(
                "vault",
                format!(
                    "Secret passed is required to be a string, instead we got <class '{}'>.",
                    crate::template::pyrepr::py_type_name(&secret)
                ),
            ));
        }
        if v.as_str().is_none() {
            return Err(plugin_err(
                "vault",
                format!(
                    "Can only vault strings, instead we got <class '{}'>.",
                    crate::template::pyrepr::py_type_name(&v)
                ),
            ));
        }
        if a.bool(3, "wrap_object", false) {
            return Err(plugin_err(
                "vault",
                "fleetsim does not support wrap_object=True (a VaultedValue object) yet",
            ));
        }
        let data = py_str(&v);
        let secret = py_str(&secret);
        let vault_id = a
            .str(2, "vault_id")
            .or_else(|| a.str(4, "vaultid"))
            .unwrap_or_else(|| "filter_default".into());
        // Without a salt Ansible draws 32 random bytes; here they derive from the text and
        // the secret, so a run replays.
        let salt = match a.str(1, "salt") {
            Some(s) => s.into_bytes(),
            None => sha256(format!("{secret}\0{data}").as_bytes()).to_vec(),
        };
        Ok(Value::from(crate::vault::encrypt(
            data.as_bytes(),
            secret.as_bytes(),
            &salt,
            Some(&vault_id),
        )))
    });
    add(env, &["unvault"], |a, v| {
        defined(&v)?;
        let secret = a.get(0, "secret").cloned().unwrap_or(Value::UNDEFINED);
        if secret.as_str().is_none() {
            return Err(plugin_err(
                "unvault",
                format!(
                    "Secret passed is required to be as string, instead we got <class '{}'>.",
                    crate::template::pyrepr::py_type_name(&secret)
                ),
            ));
        }
        if v.as_str().is_none() {
            return Err(plugin_err(
                "unvault",
                format!(
                    "Vault should be in the form of a string, instead we got <class '{}'>.",
                    crate::template::pyrepr::py_type_name(&v)
                ),
            ));
        }
        let text = py_str(&v);
        if !crate::vault::is_encrypted(text.as_bytes()) {
            return Ok(Value::from(text));
        }
        let vault_id = a
            .str(1, "vault_id")
            .or_else(|| a.str(2, "vaultid"))
            .unwrap_or_else(|| "filter_default".into());
        let secrets = [crate::vault::Secret {
            vault_id,
            password: py_str(&secret).into_bytes(),
        }];
        let plain = crate::vault::decrypt(text.as_bytes(), &secrets)
            .map_err(|e| plugin_err("unvault", format!("Unable to decrypt: {e}.")))?;
        Ok(Value::from(String::from_utf8_lossy(&plain).into_owned()))
    });
    add(env, &["password_hash"], |a, v| {
        // As ansible-core hashes with passlib: crypt(3) strings, passlib's implicit rounds
        // (656000 for sha512, 535000 for sha256) unless `rounds` is given. Without a salt
        // passlib draws a random one; here it is derived from the secret, so runs replay.
        defined(&v)?;
        let secret = py_str(&v);
        let scheme = a.str(0, "hashtype").unwrap_or_else(|| "sha512".into());
        let algo = match scheme.as_str() {
            "md5" | "md5_crypt" => "md5_crypt",
            "sha256" | "sha256_crypt" => "sha256_crypt",
            "sha512" | "sha512_crypt" => "sha512_crypt",
            "blowfish" | "bcrypt" => {
                return Err(plugin_err(
                    "password_hash",
                    "fleetsim does not implement the 'bcrypt' algorithm yet",
                ))
            }
            other => {
                return Err(plugin_err(
                    "password_hash",
                    format!("{other} is not in the list of supported passlib algorithms: md5, blowfish, sha256, sha512"),
                ))
            }
        };
        let salt_size = a
            .int(2, "salt_size")
            .map(|n| n.max(0) as usize)
            .unwrap_or(if algo == "md5_crypt" { 8 } else { 16 });
        let salt = match a.str(1, "salt").filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => {
                const SALT_CHARS: &[u8] =
                    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                sha256(secret.as_bytes())
                    .iter()
                    .cycle()
                    .take(salt_size)
                    .map(|b| SALT_CHARS[usize::from(*b) % 64] as char)
                    .collect()
            }
        };
        if !salt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
        {
            return Err(plugin_err(
                "password_hash",
                format!("Could not hash the secret: invalid characters in {algo} salt"),
            ));
        }
        let rounds = a.int(3, "rounds").filter(|r| *r > 0).map(|r| r as u32);
        Ok(Value::from(match algo {
            "md5_crypt" => super::crypt::md5_crypt(&secret, &salt),
            "sha256_crypt" => super::crypt::sha256_crypt(&secret, &salt, rounds.unwrap_or(535_000)),
            _ => super::crypt::sha512_crypt(&secret, &salt, rounds.unwrap_or(656_000)),
        }))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values() {
        assert_eq!(md5_hex("hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(
            sha1_hex("hello"),
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
        );
        assert_eq!(
            sha256_hex("hello"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(b64encode(b"hello: world"), "aGVsbG86IHdvcmxk");
        assert_eq!(b64decode("aGVsbG86IHdvcmxk").unwrap(), b"hello: world");
        assert_eq!(b64encode(b"ab"), "YWI=");
    }

    #[test]
    fn uuid5_matches_python() {
        // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('361E6D51-FAEC-444A-9079-341386DA8E2E'), 'web01'))"
        let ns = parse_uuid(UUID_NAMESPACE_ANSIBLE).unwrap();
        assert_eq!(uuid5(&ns, "web01"), "1366e976-9f5c-56fc-89f3-793cbaf36534");
        let ns = parse_uuid("{urn:uuid:11111111-2222-3333-4444-555555555555}").unwrap();
        assert_eq!(uuid5(&ns, "web01"), "ef8d50aa-35f2-56ad-bf5e-42392da00716");
        assert!(parse_uuid("abc").is_err());
    }
}
