/**
 * ATProto (ATCR) signatures (`verifiers.atproto`): the ATCR trust policy and the identity-network
 * settings (src/trust/atproto), the verifier (src/verifiers/atproto), the signer (src/sign/atproto).
 */
import { atprotoConfigSchema } from '../trust/atproto/config.js';
import { absolute, flagSet, flagText } from './flags.js';
import type { FormatDescriptor } from './types.js';

export const atprotoFormat: FormatDescriptor<'atproto', typeof atprotoConfigSchema> = {
  name: 'atproto',
  kind: 'signature',
  configSchema: atprotoConfigSchema,
  summary: 'ATProto (ATCR) signatures: the ATCR trust policy and DID resolution. See docs/atproto.md.',
  async build(settings, ctx) {
    const [{ loadAtprotoTrust }, { createAtprotoVerifier }] = await Promise.all([
      import('../trust/atproto/load.js'),
      import('../verifiers/atproto/index.js'),
    ]);
    return createAtprotoVerifier(
      await loadAtprotoTrust(settings, { baseDir: ctx.baseDir, configPath: ctx.configPath }),
    );
  },
  flags: {
    options: [
      { flag: '--atproto-policy <file>', help: 'ATCR trust policy (YAML or JSON)' },
      { flag: '--plc-url <url>', help: 'PLC directory for did:plc (default https://plc.directory)' },
      {
        flag: '--allow-private-network',
        help: 'allow loopback/private addresses for did:web hosts and PDS endpoints',
      },
    ],
    toConfig(values) {
      const policy = flagText(values, 'atprotoPolicy');
      if (policy === undefined) return undefined;
      const atproto: Record<string, unknown> = { trustPolicyFile: absolute(policy) };
      const plcUrl = flagText(values, 'plcUrl');
      if (plcUrl) atproto.plcUrl = plcUrl;
      if (flagSet(values, 'allowPrivateNetwork')) atproto.allowPrivateNetwork = true;
      return atproto;
    },
  },
  signer: { detached: false, load: async () => (await import('../sign/atproto/command.js')).atprotoSigner },
};
