// A guest's log message as the broker's log manager takes it (docs/abi.md §8; Redpanda's
// transform::logging::manager::enqueue_log in src/v/transform/logging/log_manager.cc at 1c6cff34ea8b):
// one message per fd_write call, cut at data_transforms_logging_line_max_bytes as bytes, then dropped
// if what is left is not valid UTF-8 or holds a control character other than newline and tab
// (0x00-0x1f, 0x7f). Nothing is replaced: a message the broker would drop is dropped here too, and a
// cut through a multi-byte character makes the message invalid, as in the broker.

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hasControlCharacter(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 0x0a && b !== 0x09) || b === 0x7f) return true;
  }
  return false;
}

/** The message the broker would log for these bytes, or null when it would drop them. */
export function guestLogMessage(bytes: Uint8Array, maxBytes: number): string | null {
  const cut = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  if (hasControlCharacter(cut)) return null;
  try {
    return fatalDecoder.decode(cut);
  } catch {
    return null;
  }
}
