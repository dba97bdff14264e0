/* digest.c - MD5, SHA-1 and SHA-256 fetched once per process. */
#include <pthread.h>

#include "digest.h"

static EVP_MD *md5, *sha1, *sha256;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void fetch(void)
{
	md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *digest_md5(void)
{
	pthread_once(&fetched, fetch);
	return md5;
}

const EVP_MD *digest_sha1(void)
{
	pthread_once(&fetched, fetch);
	return sha1;
}

const EVP_MD *digest_sha256(void)
{
	pthread_once(&fetched, fetch);
	return sha256;
}
