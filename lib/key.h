/*
 * key.h - the publisher's Ed25519 stream key.
 *
 * A key file holds one line, "p2pl-secret-key-1 " followed by the base32
 * Ed25519 seed (32 bytes).  p2pl_key_load() creates the file with mode 0600
 * when it does not exist, and refuses symbolic links, files that are not
 * regular, files readable by group or others, and malformed contents.
 * The public key names the stream (see p2pl(7)).
 */
#ifndef P2PL_KEY_H
#define P2PL_KEY_H

#include <stddef.h>
#include <stdint.h>

#define P2PL_KEYLEN 32
#define P2PL_KEY_B32LEN 52	/* base32 characters of a public key */

struct p2pl_key {
	uint8_t pk[P2PL_KEYLEN];
	uint8_t sk[64];
};

/* The secret of the key's private stream: BLAKE2b-256 keyed with the
 * Ed25519 seed over "p2pl-content-1", so it survives restarts. */
void p2pl_key_secret(const struct p2pl_key *k, uint8_t secret[32]);

/* Load path, or create it when missing (*created set to 1). */
int p2pl_key_load(const char *path, struct p2pl_key *k, int *created,
    char *err, size_t errlen);
/* Parse a key file's contents (n bytes); -1 if malformed. */
int p2pl_key_parse(const uint8_t *buf, size_t n, struct p2pl_key *k);
/* Wipe the secret from memory. */
void p2pl_key_wipe(struct p2pl_key *k);

#endif
