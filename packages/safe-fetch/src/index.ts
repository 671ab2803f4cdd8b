export { parseAllowList, refusalOf, isAddressAllowed, literalAddress, allowSetting, type AddressPolicy } from './address-policy.ts';
export { safeFetch, checkUrlHost, guardedLookup, defaultPolicy, urlNotAllowed, shownUrl, type SafeFetchOptions, type Resolver } from './safe-fetch.ts';
