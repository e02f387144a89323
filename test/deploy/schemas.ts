/**
 * Schema validation for every object the deploy manifests produce: built-in kinds through
 * kubernetes-models (the Kubernetes OpenAPI schemas, via ajv), Gatekeeper and cert-manager kinds
 * through zod schemas written from their CRDs' openAPIV3Schema (Gatekeeper v3.23
 * charts/gatekeeper/crds: providers.externaldata, constrainttemplates.templates,
 * assign.mutations; cert-manager v1 Certificate), strict where the CRD lists the fields.
 */
import {
  MutatingWebhookConfiguration,
  ValidatingWebhookConfiguration,
} from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { z } from 'zod';
import type { K8sObject } from './manifests.js';

const metadata = z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/) }).passthrough();

const providerSchema = z
  .object({
    apiVersion: z.literal('externaldata.gatekeeper.sh/v1beta1'),
    kind: z.literal('Provider'),
    metadata,
    spec: z
      .object({
        url: z.string().regex(/^https:\/\//, 'Gatekeeper accepts only https Provider URLs'),
        timeout: z.number().int().min(1),
        caBundle: z.string().min(1),
      })
      .strict(),
  })
  .strict();

const constraintTemplateSchema = z
  .object({
    apiVersion: z.literal('templates.gatekeeper.sh/v1'),
    kind: z.literal('ConstraintTemplate'),
    metadata,
    spec: z
      .object({
        crd: z
          .object({
            spec: z
              .object({
                names: z
                  .object({ kind: z.string().min(1), shortNames: z.array(z.string()).optional() })
                  .strict(),
                validation: z
                  .object({
                    legacySchema: z.boolean().optional(),
                    openAPIV3Schema: z.record(z.string(), z.unknown()),
                  })
                  .strict()
                  .optional(),
              })
              .strict(),
          })
          .strict(),
        targets: z
          .array(
            z
              .object({
                target: z.literal('admission.k8s.gatekeeper.sh'),
                rego: z.string().min(1),
                libs: z.array(z.string()).optional(),
              })
              .strict(),
          )
          .length(1),
      })
      .strict(),
  })
  .strict();

const kindsSchema = z.array(
  z.object({ apiGroups: z.array(z.string()), kinds: z.array(z.string()) }).strict(),
);

const assignSchema = z
  .object({
    apiVersion: z.literal('mutations.gatekeeper.sh/v1'),
    kind: z.literal('Assign'),
    metadata,
    spec: z
      .object({
        applyTo: z
          .array(
            z
              .object({
                groups: z.array(z.string()),
                kinds: z.array(z.string()),
                versions: z.array(z.string()),
              })
              .strict(),
          )
          .min(1),
        match: z
          .object({
            scope: z.enum(['Namespaced', 'Cluster', '*']).optional(),
            kinds: kindsSchema.optional(),
            namespaces: z.array(z.string()).optional(),
            excludedNamespaces: z.array(z.string()).optional(),
          })
          .strict(),
        location: z.string().min(1),
        parameters: z
          .object({
            assign: z
              .object({
                externalData: z
                  .object({
                    provider: z.string().min(1),
                    dataSource: z.enum(['ValueAtLocation', 'Username']).optional(),
                    failurePolicy: z.enum(['Fail', 'Ignore', 'UseDefault']).optional(),
                    default: z.string().optional(),
                  })
                  .strict(),
              })
              .strict(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

/** A Constraint (any kind a template defines): spec.match + spec.parameters + enforcementAction. */
const constraintSchema = z
  .object({
    apiVersion: z.literal('constraints.gatekeeper.sh/v1beta1'),
    kind: z.string().regex(/^Vouch[A-Za-z]+$/),
    metadata,
    spec: z
      .object({
        enforcementAction: z.enum(['deny', 'dryrun', 'warn']),
        match: z
          .object({
            kinds: kindsSchema,
            namespaces: z.array(z.string()).optional(),
            excludedNamespaces: z.array(z.string()).optional(),
          })
          .strict(),
        parameters: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();

const certificateSchema = z
  .object({
    apiVersion: z.literal('cert-manager.io/v1'),
    kind: z.literal('Certificate'),
    metadata,
    spec: z
      .object({
        secretName: z.string().min(1),
        dnsNames: z.array(z.string().min(1)).min(1),
        privateKey: z
          .object({
            algorithm: z.enum(['RSA', 'ECDSA', 'Ed25519']),
            size: z.number().int(),
            rotationPolicy: z.string(),
          })
          .strict(),
        usages: z.array(z.string()),
        issuerRef: z.object({ kind: z.string(), name: z.string() }).strict(),
      })
      .strict(),
  })
  .strict();

type Validator = (obj: K8sObject) => void;

function model(Model: new (data: never) => { validate(): void }): Validator {
  return (obj) => new Model(obj as never).validate();
}

function zodValidator(schema: z.ZodType): Validator {
  return (obj) => {
    const result = schema.safeParse(obj);
    if (!result.success) throw new Error(z.prettifyError(result.error));
  };
}

const validators: Record<string, Validator> = {
  'v1/ConfigMap': model(ConfigMap),
  'v1/Namespace': model(Namespace),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'apps/v1/Deployment': model(Deployment),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': model(ValidatingWebhookConfiguration),
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': model(MutatingWebhookConfiguration),
  'externaldata.gatekeeper.sh/v1beta1/Provider': zodValidator(providerSchema),
  'templates.gatekeeper.sh/v1/ConstraintTemplate': zodValidator(constraintTemplateSchema),
  'mutations.gatekeeper.sh/v1/Assign': zodValidator(assignSchema),
  'cert-manager.io/v1/Certificate': zodValidator(certificateSchema),
};

/** Validates one object against its kind's schema; throws naming the object and the problem. */
export function validateObject(obj: K8sObject): void {
  const key = obj.apiVersion?.startsWith('constraints.gatekeeper.sh/')
    ? 'constraint'
    : `${obj.apiVersion}/${obj.kind}`;
  const validate = key === 'constraint' ? zodValidator(constraintSchema) : validators[key];
  if (!validate)
    throw new Error(`no schema for ${key} (${obj.metadata?.name}); add one to test/deploy/schemas.ts`);
  try {
    validate(obj);
  } catch (err) {
    throw new Error(`${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`);
  }
}
