package yamlevents

// Runs: the two places the copied reader and scanner spend most of their
// time on a sealed file, which is mostly long base64 values, take a run of
// plain ASCII at once where upstream takes it a character at a time. Each
// does for such a run exactly what upstream's loop does for each of its
// characters; they are the only changes to the copied code (see
// TestCopyIsUpstream's changes), and TestRunsAreUpstreams holds them to
// upstream's reading.

// asciiText: the bytes the UTF-8 decoder passes through as they are, one
// character each: tab, line feed, carriage return and printable ASCII.
var asciiText = func() (t [256]bool) {
	t['\t'], t['\n'], t['\r'] = true, true, true
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = true
	}
	return t
}()

// plainText: the characters that neither end nor break a plain scalar
// wherever they stand in it: printable ASCII but the blank, ':' and the
// flow indicators. Any other character takes upstream's path.
var plainText = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	for _, c := range ":,?[]{}" {
		t[c] = false
	}
	return t
}()

// decodeASCII copies the run of asciiText at the raw buffer's position
// into the buffer at *n, as yaml_parser_update_buffer's UTF-8 decoder
// does one byte at a time, and says whether there was any. The buffer has
// room: the decoder never writes more bytes than it reads.
func decodeASCII(parser *yaml_parser_t, n *int) bool {
	raw := parser.raw_buffer[parser.raw_buffer_pos:]
	k := 0
	for k < len(raw) && asciiText[raw[k]] {
		k++
	}
	if k == 0 {
		return false
	}
	copy(parser.buffer[*n:], raw[:k])
	*n += k
	parser.raw_buffer_pos += k
	parser.offset += k
	parser.unread += k
	return true
}

// readPlain copies the character at the buffer's position to s as read
// does, and with it the run of plainText decoded after it: for each of
// those, yaml_parser_scan_plain_scalar's inner loop would find no blank,
// break or indicator, have no blanks to join, and read it. The run leaves
// the last decoded character unread, as upstream's loop does before it
// fills the buffer again (it asks for 2 when 1 is left), so the buffer
// is laid out as upstream's: its is_bom reads buffer[0], not the
// position, and a U+FEFF that came first after a refill of an emptied
// buffer would be taken for a byte-order mark by kseal alone.
func readPlain(parser *yaml_parser_t, s []byte) []byte {
	buf := parser.buffer[parser.buffer_pos:]
	k := 0
	for k < parser.unread-1 && plainText[buf[k]] {
		k++
	}
	if k == 0 {
		return read(parser, s)
	}
	if cap(s) == 0 {
		// A value is mostly one run: s is made once to hold what of it is
		// here and in the input not decoded yet, rather than grown (a
		// sealed value read 1,536 bytes at a time grew three times).
		s = make([]byte, 0, k+min(plainAhead(parser, k), maxPlainAhead))
	}
	s = append(s, buf[:k]...)
	parser.buffer_pos += k
	parser.mark.index += k
	parser.mark.column += k
	parser.unread -= k
	parser.newlines = 0
	return s
}

// plainAhead is how many plainText bytes follow the first k at the
// buffer's position: in the buffer, then in the raw buffer and the input
// not decoded yet. It is a capacity hint only, so it reads bytes, not
// characters (only ASCII counts), and stops at any other byte.
func plainAhead(parser *yaml_parser_t, k int) int {
	n := 0
	for _, b := range [...][]byte{parser.buffer[parser.buffer_pos+k:], parser.raw_buffer[parser.raw_buffer_pos:], parser.input[parser.input_pos:]} {
		i := 0
		for i < len(b) && plainText[b[i]] {
			i++
		}
		n += i
		if i < len(b) {
			break
		}
	}
	return n
}

// maxPlainAhead caps plainAhead's hint: a longer value grows as before.
const maxPlainAhead = 64 << 10
