/**
 * Notary Project signatures (`verifiers.notation`): the trust policy and trust stores
 * (src/trust/notation), the verifier (src/verifiers/notation), the signer (src/sign/notation).
 */
import { notationConfigSchema } from '../trust/notation/config.js';
import { absolute, flagText } from './flags.js';
import type { FormatDescriptor } from './types.js';

export const notationFormat: FormatDescriptor<'notation', typeof notationConfigSchema> = {
  name: 'notation',
  kind: 'signature',
  configSchema: notationConfigSchema,
  summary: 'Notary Project (notation) signatures: the trust policy and trust stores. See docs/policy.md.',
  async build(settings, ctx) {
    const [{ loadNotationTrust }, { createNotationVerifier }] = await Promise.all([
      import('../trust/notation/load.js'),
      import('../verifiers/notation/index.js'),
    ]);
    return createNotationVerifier(
      await loadNotationTrust(settings, { baseDir: ctx.baseDir, configPath: ctx.configPath }),
    );
  },
  flags: {
    options: [
      { flag: '--notation-dir <dir>', help: "notation's config dir: trustpolicy.json and truststore/x509/…" },
    ],
    toConfig(values) {
      const dir = flagText(values, 'notationDir');
      return dir === undefined ? undefined : { configDir: absolute(dir) };
    },
  },
  signer: { detached: true, load: async () => (await import('../sign/notation/command.js')).notationSigner },
};
