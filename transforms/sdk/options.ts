// write_record_with_options options (docs/abi.md §6), encoded once when the options are made:
//
//   options := ( key:u8 value )*        today one entry at most, key 0x01 only
//   0x01    => output topic: name_len:varint(zig-zag) name:utf8[name_len]
//   empty   =  the default output topic (index 0)
import { ByteBuilder } from './builder';

export const OPTION_TOPIC: u8 = 0x01;

export class WriteOptions {
  topic: string | null;
  encoded: ByteBuilder = new ByteBuilder(16);

  constructor(topic: string | null = null) {
    this.topic = topic;
    if (topic !== null) {
      const name = String.UTF8.encode(topic);
      this.encoded.byte(OPTION_TOPIC).varint(name.byteLength).bytes(changetype<usize>(name), name.byteLength);
    }
  }
}
