#!/bin/sh
# http-reply.sh - minimal HTTP/1.0 responder run by socat for each lab TLS connection (stdin/stdout = decrypted stream)
#
# Reads the request head first, so the server never closes with unread data (which would make the kernel send a RST
# and spoil an otherwise clean "ok" flow).
cr=$(printf '\r')
while IFS= read -r line; do
	case "$line" in
	"" | "$cr") break ;;
	esac
done
body="tamperscope lab: ok"
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' \
	$((${#body} + 1)) "$body"
