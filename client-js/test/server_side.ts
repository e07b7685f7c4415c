/** The server end of a fake signaling stream: reads client envelopes, writes server ones. */

import { create, type MessageInitShape } from "@bufbuild/protobuf";

import { ServerMessageSchema, type ClientMessage } from "../src/proto/gen/dark_tower/signaling/v1/signaling_pb.js";
import { MessageReader, decodeClient, frameServer } from "../src/proto/signal.js";

/** Reads what the client sends and answers. */
export class FakeSignalServer {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly messages = new MessageReader();

  constructor(stream: { fromClient: ReadableStream<Uint8Array>; toClient: WritableStream<Uint8Array> }) {
    this.reader = stream.fromClient.getReader();
    this.writer = stream.toClient.getWriter();
  }

  /** The next client message; undefined when the client finished the stream. */
  async next(): Promise<ClientMessage | undefined> {
    for (;;) {
      const body = this.messages.nextMessage();
      if (body !== undefined) return decodeClient(body);
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.messages.push(value);
    }
  }

  /** Sends one server message. */
  send(msg: MessageInitShape<typeof ServerMessageSchema>): Promise<void> {
    return this.writer.write(frameServer(create(ServerMessageSchema, msg)));
  }

  /** Finishes the stream. */
  end(): Promise<void> {
    return this.writer.close();
  }
}
