// Stands in for the real bundle so that `npm run synth` works offline before
// `npx jobshift bundle-lambda --out ../dist-lambda` has run. Deploying it fails every batch on purpose.
export const handler = async () => {
  throw new Error('placeholder Lambda package: build it with `npx jobshift bundle-lambda` and synthesize again');
};
