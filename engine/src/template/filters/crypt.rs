//! The crypt(3) password hashes `password_hash` makes: SHA-crypt (`$5$`, `$6$`, Drepper's
//! specification) and MD5-crypt (`$1$`), byte for byte as passlib (and glibc's crypt) write
//! them, so a hash made here verifies on a real host.

use md5::Md5;
use sha2::{Digest, Sha256, Sha512};

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Appends `n` characters encoding the 24-bit group `b2 b1 b0`, low bits first.
fn b64_from_24bit(out: &mut String, b2: u8, b1: u8, b0: u8, n: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..n {
        out.push(ITOA64[(w & 0x3f) as usize] as char);
        w >>= 6;
    }
}

/// `len` bytes of `block` repeated (the P and S sequences of SHA-crypt).
fn repeated(block: &[u8], len: usize) -> Vec<u8> {
    block.iter().copied().cycle().take(len).collect()
}

fn sha_crypt_raw<D: Digest + Clone>(pw: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
    let b = D::new()
        .chain_update(pw)
        .chain_update(salt)
        .chain_update(pw)
        .finalize()
        .to_vec();
    let mut a = D::new().chain_update(pw).chain_update(salt);
    a.update(repeated(&b, pw.len()));
    let mut n = pw.len();
    while n > 0 {
        if n & 1 == 1 {
            a.update(&b);
        } else {
            a.update(pw);
        }
        n >>= 1;
    }
    let a = a.finalize().to_vec();
    let mut dp = D::new();
    for _ in 0..pw.len() {
        dp.update(pw);
    }
    let p = repeated(&dp.finalize(), pw.len());
    let mut ds = D::new();
    for _ in 0..16 + usize::from(a[0]) {
        ds.update(salt);
    }
    let s = repeated(&ds.finalize(), salt.len());
    let mut c = a;
    for i in 0..rounds {
        let mut ctx = D::new();
        if i % 2 == 1 {
            ctx.update(&p);
        } else {
            ctx.update(&c);
        }
        if i % 3 != 0 {
            ctx.update(&s);
        }
        if i % 7 != 0 {
            ctx.update(&p);
        }
        if i % 2 == 1 {
            ctx.update(&c);
        } else {
            ctx.update(&p);
        }
        c = ctx.finalize().to_vec();
    }
    c
}

/// The `$5$`/`$6$` prefix with `rounds=N$` unless N is 5000 (crypt's default, left out).
fn sha_prefix(id: &str, salt: &str, rounds: u32) -> String {
    if rounds == 5000 {
        format!("${id}${salt}$")
    } else {
        format!("${id}$rounds={rounds}${salt}$")
    }
}

/// SHA-crypt's rounds are clamped to 1000..=999999999, its salt cut to 16 characters.
fn clamp(salt: &str, rounds: u32) -> (&str, u32) {
    let salt = &salt[..salt.len().min(16)];
    (salt, rounds.clamp(1000, 999_999_999))
}

/// sha512_crypt (`$6$`).
pub fn sha512_crypt(pw: &str, salt: &str, rounds: u32) -> String {
    let (salt, rounds) = clamp(salt, rounds);
    let c = sha_crypt_raw::<Sha512>(pw.as_bytes(), salt.as_bytes(), rounds);
    let mut out = sha_prefix("6", salt, rounds);
    const ORDER: [(usize, usize, usize); 21] = [
        (0, 21, 42),
        (22, 43, 1),
        (44, 2, 23),
        (3, 24, 45),
        (25, 46, 4),
        (47, 5, 26),
        (6, 27, 48),
        (28, 49, 7),
        (50, 8, 29),
        (9, 30, 51),
        (31, 52, 10),
        (53, 11, 32),
        (12, 33, 54),
        (34, 55, 13),
        (56, 14, 35),
        (15, 36, 57),
        (37, 58, 16),
        (59, 17, 38),
        (18, 39, 60),
        (40, 61, 19),
        (62, 20, 41),
    ];
    for (x, y, z) in ORDER {
        b64_from_24bit(&mut out, c[x], c[y], c[z], 4);
    }
    b64_from_24bit(&mut out, 0, 0, c[63], 2);
    out
}

/// sha256_crypt (`$5$`).
pub fn sha256_crypt(pw: &str, salt: &str, rounds: u32) -> String {
    let (salt, rounds) = clamp(salt, rounds);
    let c = sha_crypt_raw::<Sha256>(pw.as_bytes(), salt.as_bytes(), rounds);
    let mut out = sha_prefix("5", salt, rounds);
    const ORDER: [(usize, usize, usize); 10] = [
        (0, 10, 20),
        (21, 1, 11),
        (12, 22, 2),
        (3, 13, 23),
        (24, 4, 14),
        (15, 25, 5),
        (6, 16, 26),
        (27, 7, 17),
        (18, 28, 8),
        (9, 19, 29),
    ];
    for (x, y, z) in ORDER {
        b64_from_24bit(&mut out, c[x], c[y], c[z], 4);
    }
    b64_from_24bit(&mut out, 0, c[31], c[30], 3);
    out
}

/// md5_crypt (`$1$`, salt cut to 8 characters).
pub fn md5_crypt(pw: &str, salt: &str) -> String {
    let salt = &salt[..salt.len().min(8)];
    let (pw, s) = (pw.as_bytes(), salt.as_bytes());
    let alt = Md5::new()
        .chain_update(pw)
        .chain_update(s)
        .chain_update(pw)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(pw)
        .chain_update(b"$1$")
        .chain_update(s);
    ctx.update(repeated(&alt, pw.len()));
    let mut n = pw.len();
    while n > 0 {
        if n & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&pw[..1]);
        }
        n >>= 1;
    }
    let mut f = ctx.finalize().to_vec();
    for i in 0..1000 {
        let mut c = Md5::new();
        if i % 2 == 1 {
            c.update(pw);
        } else {
            c.update(&f);
        }
        if i % 3 != 0 {
            c.update(s);
        }
        if i % 7 != 0 {
            c.update(pw);
        }
        if i % 2 == 1 {
            c.update(&f);
        } else {
            c.update(pw);
        }
        f = c.finalize().to_vec();
    }
    let mut out = format!("$1${salt}$");
    for (x, y, z) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        b64_from_24bit(&mut out, f[x], f[y], f[z], 4);
    }
    b64_from_24bit(&mut out, 0, 0, f[11], 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA512_5000: &str = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
    const SHA256_5000: &str = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";
    const MD5: &str = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//";
    const SHA512_EMPTY: &str = "$6$rounds=1000$ab$ibFMAI/Igw53aVaJxJu4wwQmU0jF8lxiKV6mtjRJmbxKnzQU8fIizULiJeSfGn7H54dbRhqwIBpklchs8nlWi.";
    const SHA256_LONG: &str =
        "$5$rounds=1234$0123456789abcdef$.awoodbP3w5Rp9xry69uCuTE1.rPS1eUORgcN2v4K41";

    // Expected values from Python's crypt.crypt (glibc), which passlib matches.
    #[test]
    fn matches_glibc_crypt() {
        assert_eq!(sha512_crypt("secret", "saltsalt", 5000), SHA512_5000);
        assert_eq!(sha256_crypt("secret", "saltsalt", 5000), SHA256_5000);
        assert_eq!(md5_crypt("secret", "saltsalt"), MD5);
        assert_eq!(sha512_crypt("", "ab", 1000), SHA512_EMPTY);
        assert_eq!(
            sha256_crypt(
                "a much longer password than one block of sha256",
                "0123456789abcdefXYZ",
                1234
            ),
            SHA256_LONG
        );
    }
}
