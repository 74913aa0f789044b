package io.berth.workflows;

import io.temporal.common.SearchAttributeKey;
import java.util.List;

/**
 * Custom search attributes that make workspaces findable in the Temporal UI and in
 * ListWorkflowExecutions. The worker registers them before any workflow starts: upserting an
 * unregistered attribute fails the workflow task.
 */
public final class SearchAttributes {
  public static final SearchAttributeKey<String> USER = SearchAttributeKey.forKeyword("BerthUser");
  public static final SearchAttributeKey<String> STATE = SearchAttributeKey.forKeyword("BerthState");
  public static final SearchAttributeKey<String> INSTANCE = SearchAttributeKey.forKeyword("BerthInstance");
  public static final List<SearchAttributeKey<String>> ALL = List.of(USER, STATE, INSTANCE);

  private SearchAttributes() {}
}
