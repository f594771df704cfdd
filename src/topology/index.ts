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
export {routeMessage, topicMatches} from './routing.js'
