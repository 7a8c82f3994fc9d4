/* key.c - load or create the publisher's Ed25519 key file. */
#include "key.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_PREFIX "p2pl-secret-key-1 "
#define KEY_FILE_MAX 128

static int
key_create(const char *path, struct p2pl_key *k, char *err, size_t errlen)
{
	uint8_t seed[32];
	char line[KEY_FILE_MAX];
	size_t n;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	n = strlen(KEY_PREFIX);
	memcpy(line, KEY_PREFIX, n);
	n += p2pl_base32_encode(seed, sizeof(seed), line + n, sizeof(line) - n);
	line[n++] = '\n';
	if (write(fd, line, n) != (ssize_t)n || fsync(fd) == -1) {
		p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(line, sizeof(line));
	return rc;
}

int
p2pl_key_parse(const uint8_t *buf, size_t n, struct p2pl_key *k)
{
	size_t plen = strlen(KEY_PREFIX);
	uint8_t seed[32];
	int rc = -1;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == plen + P2PL_KEY_B32LEN && memcmp(buf, KEY_PREFIX, plen) == 0 &&
	    p2pl_base32_decode((const char *)buf + plen, P2PL_KEY_B32LEN, seed,
	    sizeof(seed)) == 32) {
		crypto_sign_seed_keypair(k->pk, k->sk, seed);
		rc = 0;
	}
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

static int
key_read(int fd, const char *path, struct p2pl_key *k, char *err,
    size_t errlen)
{
	uint8_t buf[KEY_FILE_MAX + 1];
	ssize_t n;
	int rc;

	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = p2pl_key_parse(buf, (size_t)n, k);
	if (rc == -1)
		p2pl_seterr(err, errlen, "%s: not a p2pl secret key file", path);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int
p2pl_key_load(const char *path, struct p2pl_key *k, int *created, char *err,
    size_t errlen)
{
	struct stat st;
	int fd, rc = -1;

	*created = 0;
	if (sodium_init() < 0) {
		p2pl_seterr(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	/* non-blocking, so a FIFO in its place is refused at once below
	 * instead of waiting in open() for a writer */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 && errno == ENOENT) {
		if (key_create(path, k, err, errlen) == -1)
			return -1;
		*created = 1;
		return 0;
	}
	if (fd == -1) {
		if (errno == ELOOP)
			p2pl_seterr(err, errlen, "%s: refusing a symbolic link",
			    path);
		else
			p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		p2pl_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		p2pl_seterr(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		p2pl_seterr(err, errlen, "%s: readable by others (mode %03o); "
		    "run chmod 600", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_uid != geteuid()) {
		p2pl_seterr(err, errlen, "%s: owned by another user", path);
		goto out;
	}
	rc = key_read(fd, path, k, err, errlen);
out:
	close(fd);
	return rc;
}

void
p2pl_key_wipe(struct p2pl_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void
p2pl_key_secret(const struct p2pl_key *k, uint8_t secret[32])
{
	static const char ctx[] = "p2pl-content-1";

	crypto_generichash(secret, 32, (const uint8_t *)ctx, sizeof(ctx) - 1,
	    k->sk, 32);
}
