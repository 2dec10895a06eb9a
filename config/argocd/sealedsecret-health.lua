-- Argo CD health check for kseal SealedSecrets (kseal.dev/v1alpha1).
-- Add it to the argocd-cm ConfigMap as
--   resource.customizations.health.kseal.dev_SealedSecret: |
--     <this file>
-- It reads the conditions the way kstatus does (docs/controller.md,
-- "Health"): Stalled is Degraded, Ready is Healthy, anything else (not yet
-- handled, Reconciling while an outage is retried) is Progressing.
local hs = {status = "Progressing", message = "Waiting for kseal-controller to unseal"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  return hs
end
local ready = nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Stalled" and c.status == "True" then
    hs.status = "Degraded"
    hs.message = c.reason .. ": " .. c.message
    return hs
  end
  if c.type == "Reconciling" and c.status == "True" then
    hs.message = c.reason .. ": " .. c.message
    return hs
  end
  if c.type == "Ready" then
    ready = c
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
elseif ready ~= nil then
  hs.message = ready.reason .. ": " .. ready.message
end
return hs
