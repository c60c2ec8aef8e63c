-- Health of an argoproj.io/Application as seen by its parent (the root app of apps).
-- Argo CD stopped assessing child Applications in 1.8, so without this a sync wave that contains
-- Applications never waits for them: the operator's wave would not be healthy before the
-- environments' wave starts. The child's own health is the answer; until the child has reported
-- one, it is Progressing, never Healthy.
local result = { status = "Progressing", message = "waiting for the Application to report its health" }
if obj.status == nil or obj.status.health == nil or obj.status.health.status == nil then
  return result
end
result.status = obj.status.health.status
if obj.status.health.message ~= nil then
  result.message = obj.status.health.message
else
  result.message = ""
end
-- A child that is still syncing an operation is not done, whatever its resources say.
if obj.status.operationState ~= nil and obj.status.operationState.phase == "Running" and result.status == "Healthy" then
  result.status = "Progressing"
  result.message = "sync operation running"
end
return result
