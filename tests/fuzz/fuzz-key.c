/* fuzz-key.c - p2pl_key_parse on key file contents. */
#include "key.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pl_key k, k2;

	if (p2pl_key_parse(data, size, &k) == -1)
		return 0;
	/* a parsed key is a real key pair: the public half follows */
	if (crypto_sign_ed25519_sk_to_pk(k2.pk, k.sk) != 0 ||
	    memcmp(k2.pk, k.pk, sizeof(k.pk)) != 0)
		abort();
	p2pl_key_wipe(&k);
	return 0;
}
