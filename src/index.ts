export default {
  async fetch() {
    return new Response("not yet");
  },
} satisfies ExportedHandler<Env>;
export class CustomerSync {}
export class RateLimiter {}
