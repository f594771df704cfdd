export type {
  Definitions,
  DefinitionsBinding,
  DefinitionsExchange,
  DefinitionsPermission,
  DefinitionsPolicy,
  DefinitionsQueue,
  DefinitionsTopicPermission,
  DefinitionsUser,
  DefinitionsVhost,
} from './definitions.js'
export {fixtureTopologyFiles, readDefinitionsFiles} from './definitions.js'
export {loadDefinitionsFiles, loadTopology} from './load.js'
export {passwordEnvName, readStoredPassword} from './passwords.js'
export {countPlan, type PlanAction, type PlanCounts, type PlanItem, planDefinitions} from './plan.js'
export {
  exportDefinitions,
  type ProvisionObjectResult,
  type ProvisionOptions,
  type ProvisionResult,
  type ProvisionSummary,
  provision,
  provisionSummary,
} from './provision.js'
export {routeMessage, topicMatches} from './routing.js'
